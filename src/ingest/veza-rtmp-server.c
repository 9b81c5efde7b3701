/* veza-rtmp-server.c — the RTMP ingest server
 *
 * A GSocketService that turns each accepted connection into a
 * VezaRtmpSession, enforces the connection limits and relays publish
 * requests as the "publish" signal.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-rtmp-server.h"

#include "veza-rtmp-chunk.h"
#include "veza-rtmp-session-private.h"

struct _VezaRtmpServer {
  GObject parent_instance;

  VezaRtmpLimits limits;
  GSocketService *service;
  VezaFdPoller *poller;  /* the sessions' sockets; made with the first one */
  GPtrArray *sessions;   /* VezaRtmpSession*, owned */
  GHashTable *peer_ips;  /* VezaRtmpSession* -> IP string */
  guint64 closed_bytes;  /* bytes of sessions already gone */
};

enum {
  SIGNAL_PUBLISH,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (VezaRtmpServer, veza_rtmp_server, G_TYPE_OBJECT)

void
veza_rtmp_limits_init_default (VezaRtmpLimits *limits)
{
  g_return_if_fail (limits != NULL);

  limits->max_connections = 256;
  limits->max_connections_per_address = 16;
  limits->handshake_timeout_s = 10;
  limits->idle_timeout_s = 30;
  limits->max_message_size = VEZA_RTMP_DEFAULT_MAX_MESSAGE;
  limits->max_chunk_streams = VEZA_RTMP_DEFAULT_MAX_CSTREAMS;
}

static gboolean
on_publish (VezaRtmpSession *session, gpointer user_data)
{
  VezaRtmpServer *self = user_data;

  if (!g_signal_has_handler_pending (self, signals[SIGNAL_PUBLISH], 0, FALSE))
    return FALSE;
  g_signal_emit (self, signals[SIGNAL_PUBLISH], 0, session,
                 veza_rtmp_session_get_app (session),
                 veza_rtmp_session_get_stream_name (session));
  return TRUE;
}

static void
on_session_closed (VezaRtmpSession *session, const GError *error, gpointer user_data)
{
  VezaRtmpServer *self = user_data;

  self->closed_bytes += veza_rtmp_session_get_bytes_received (session);
  g_signal_handlers_disconnect_by_data (session, self);
  g_hash_table_remove (self->peer_ips, session);
  g_ptr_array_remove_fast (self->sessions, session);
}

static char *
remote_ip (GSocketConnection *connection)
{
  g_autoptr (GSocketAddress) addr = g_socket_connection_get_remote_address (connection, NULL);

  if (!G_IS_INET_SOCKET_ADDRESS (addr))
    return g_strdup ("unknown");
  return g_inet_address_to_string (
    g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (addr)));
}

static void
refuse (GSocketConnection *connection)
{
  /* The peer is gone or will see the close; nothing else to do on error. */
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
}

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             gpointer           user_data)
{
  VezaRtmpServer *self = user_data;
  g_autofree char *ip = remote_ip (connection);
  guint same_ip = 0;
  GHashTableIter iter;
  gpointer value;

  if (self->sessions->len >= self->limits.max_connections)
    {
      g_warning ("refusing RTMP connection from %s: %u connections already",
                 ip, self->sessions->len);
      refuse (connection);
      return TRUE;
    }
  g_hash_table_iter_init (&iter, self->peer_ips);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_str_equal (value, ip))
      same_ip++;
  if (same_ip >= self->limits.max_connections_per_address)
    {
      g_warning ("refusing RTMP connection from %s: %u connections from that address already",
                 ip, same_ip);
      refuse (connection);
      return TRUE;
    }

  VezaRtmpSession *session = veza_rtmp_session_new (connection, &self->limits, on_publish, self);
  g_debug ("new RTMP connection from %s", veza_rtmp_session_get_remote_address (session));
  g_ptr_array_add (self->sessions, session);
  g_hash_table_insert (self->peer_ips, session, g_steal_pointer (&ip));
  g_signal_connect (session, "closed", G_CALLBACK (on_session_closed), self);
  if (self->poller == NULL)
    {
      g_autoptr (GError) error = NULL;

      self->poller = veza_fd_poller_new (g_main_context_get_thread_default (), &error);
      if (self->poller == NULL)
        g_warning ("RTMP sessions will be polled one by one: %s", error->message);
    }
  veza_rtmp_session_start (session, self->poller);
  return TRUE;
}

VezaRtmpServer *
veza_rtmp_server_new (const VezaRtmpLimits *limits)
{
  VezaRtmpServer *self = g_object_new (VEZA_TYPE_RTMP_SERVER, NULL);

  if (limits)
    {
      self->limits = *limits;
      /* Zero means "default" for each field. */
      VezaRtmpLimits d;
      veza_rtmp_limits_init_default (&d);
      if (!self->limits.max_connections)
        self->limits.max_connections = d.max_connections;
      if (!self->limits.max_connections_per_address)
        self->limits.max_connections_per_address = d.max_connections_per_address;
      if (!self->limits.handshake_timeout_s)
        self->limits.handshake_timeout_s = d.handshake_timeout_s;
      if (!self->limits.idle_timeout_s)
        self->limits.idle_timeout_s = d.idle_timeout_s;
      if (!self->limits.max_message_size)
        self->limits.max_message_size = d.max_message_size;
      if (!self->limits.max_chunk_streams)
        self->limits.max_chunk_streams = d.max_chunk_streams;
    }
  return self;
}

gboolean
veza_rtmp_server_listen (VezaRtmpServer *self,
                         const char     *address,
                         guint16         port,
                         guint16        *out_port,
                         GError        **error)
{
  g_autoptr (GInetAddress) ip = NULL;
  g_autoptr (GSocketAddress) addr = NULL;
  g_autoptr (GSocketAddress) effective = NULL;

  g_return_val_if_fail (VEZA_IS_RTMP_SERVER (self), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);

  ip = g_inet_address_new_from_string (address);
  if (ip == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s” is not an IP address", address);
      return FALSE;
    }
  addr = g_inet_socket_address_new (ip, port);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), addr,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                      &effective, error))
    return FALSE;

  guint16 bound = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  if (out_port)
    *out_port = bound;
  g_socket_service_start (self->service);
  g_message ("RTMP ingest listening on %s:%u", address, bound);
  return TRUE;
}

void
veza_rtmp_server_stop (VezaRtmpServer *self)
{
  g_return_if_fail (VEZA_IS_RTMP_SERVER (self));

  if (self->service)
    {
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
    }

  /* Closing a session removes it from the array. */
  while (self->sessions->len > 0)
    {
      g_autoptr (VezaRtmpSession) session = g_object_ref (g_ptr_array_index (self->sessions, 0));
      veza_rtmp_session_close (session);
      if (self->sessions->len > 0 && g_ptr_array_index (self->sessions, 0) == session)
        on_session_closed (session, NULL, self);
    }
}

guint64
veza_rtmp_server_get_bytes_received (VezaRtmpServer *self)
{
  guint64 total;

  g_return_val_if_fail (VEZA_IS_RTMP_SERVER (self), 0);

  total = self->closed_bytes;
  for (guint i = 0; i < self->sessions->len; i++)
    total += veza_rtmp_session_get_bytes_received (g_ptr_array_index (self->sessions, i));
  return total;
}

guint
veza_rtmp_server_get_n_sessions (VezaRtmpServer *self)
{
  g_return_val_if_fail (VEZA_IS_RTMP_SERVER (self), 0);
  return self->sessions->len;
}

static void
veza_rtmp_server_dispose (GObject *object)
{
  VezaRtmpServer *self = VEZA_RTMP_SERVER (object);

  if (self->sessions)
    veza_rtmp_server_stop (self);
  g_clear_object (&self->service);
  G_OBJECT_CLASS (veza_rtmp_server_parent_class)->dispose (object);
}

static void
veza_rtmp_server_finalize (GObject *object)
{
  VezaRtmpServer *self = VEZA_RTMP_SERVER (object);

  g_clear_pointer (&self->sessions, g_ptr_array_unref);
  g_clear_pointer (&self->peer_ips, g_hash_table_unref);
  g_clear_pointer (&self->poller, veza_fd_poller_unref);
  G_OBJECT_CLASS (veza_rtmp_server_parent_class)->finalize (object);
}

static void
veza_rtmp_server_class_init (VezaRtmpServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = veza_rtmp_server_dispose;
  object_class->finalize = veza_rtmp_server_finalize;

  /**
   * VezaRtmpServer::publish:
   * @session: the session asking
   * @app: the application from `connect`
   * @stream_name: the publish name without any query: the stream key
   *
   * The handler answers with veza_rtmp_session_accept_publish() or
   * veza_rtmp_session_reject_publish(), now or later.
   */
  signals[SIGNAL_PUBLISH] =
    g_signal_new ("publish", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, VEZA_TYPE_RTMP_SESSION, G_TYPE_STRING, G_TYPE_STRING);
}

static void
veza_rtmp_server_init (VezaRtmpServer *self)
{
  veza_rtmp_limits_init_default (&self->limits);
  self->service = g_socket_service_new ();
  self->sessions = g_ptr_array_new_with_free_func (g_object_unref);
  self->peer_ips = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_signal_connect (self->service, "incoming", G_CALLBACK (on_incoming), self);
}
