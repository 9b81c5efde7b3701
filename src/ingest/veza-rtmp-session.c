/* veza-rtmp-session.c — one RTMP publisher connection
 *
 * Bytes from the socket go through the handshake, then the chunk reader;
 * messages are dispatched here. Replies go through a write queue with one
 * asynchronous write in flight. Everything runs on the main context the
 * session was made on; no threads.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-rtmp-session-private.h"

#include <string.h>

#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "veza-amf0.h"
#include "veza-rtmp-chunk.h"
#include "veza-rtmp-handshake.h"

#define READ_SIZE          65536
#define READS_PER_DISPATCH 8
#define OUT_CHUNK_SIZE     4096
#define OUR_WINDOW_ACK     2500000
#define PEER_BANDWIDTH     2500000
#define CLOSE_FLUSH_S      5
/* The timeouts are whole seconds: one tick a second, which GLib fires
 * for all sessions at once. */
#define TICK_S             1
/* Replies waiting for a peer that does not read are capped. */
#define MAX_OUT_QUEUE      (1 << 20)

/* Chunk stream ids of what we send. */
#define CSID_CONTROL       2
#define CSID_COMMAND       3
#define CSID_STATUS        5

typedef enum {
  PHASE_HANDSHAKE,
  PHASE_HANDSHAKEN,      /* chunk stream running, no connect yet */
  PHASE_CONNECTED,
  PHASE_PUBLISH_PENDING, /* waiting for accept/reject */
  PHASE_PUBLISHING,
  PHASE_UNPUBLISHED,
  PHASE_CLOSING,         /* flushing the last replies */
  PHASE_CLOSED,
} Phase;

struct _VezaRtmpSession {
  GObject parent_instance;

  GSocketConnection *connection;
  GOutputStream *out;
  GCancellable *cancellable;
  GMainContext *context;
  GSource *timer;
  GSource *read_source;  /* readable socket, attached while open ... */
  VezaFdPoller *poller;  /* ... or, when the server has a poller, */
  VezaFdWatch *watch;    /* this watch in it */

  VezaRtmpLimits limits;
  VezaRtmpPublishFunc publish_func;
  gpointer publish_data;

  char *remote_address;
  char *app;
  char *log_app;         /* app up to any '/', for logs (a key may follow it) */
  char *stream_name;

  VezaRtmpHandshake *handshake;
  VezaRtmpChunkReader *reader;
  VezaRtmpChunkWriter *writer;
  guint8 *read_buf;

  GByteArray *outq;
  GBytes *writing;       /* being written; NULL when no write is in flight */
  gboolean write_pending;

  Phase phase;
  gboolean started;
  guint64 bytes_received;
  guint64 last_ack;
  guint32 peer_window;
  guint32 next_stream_id;
  guint32 publish_stream_id;
  double object_encoding;

  gint64 started_us;
  gint64 last_rx_us;
  gint64 publish_requested_us;
  gint64 closing_since_us;

  GBytes *pending_metadata;
  guint32 pending_metadata_ts;
};

enum {
  SIGNAL_MEDIA,
  SIGNAL_UNPUBLISHED,
  SIGNAL_CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (VezaRtmpSession, veza_rtmp_session, G_TYPE_OBJECT)

static void start_read (VezaRtmpSession *self);
static void stop_read (VezaRtmpSession *self);
static void flush (VezaRtmpSession *self);

/* ---------------------------------------------------------------------- */
/* Closing                                                                */
/* ---------------------------------------------------------------------- */

static void
finish (VezaRtmpSession *self, const GError *error)
{
  if (self->phase == PHASE_CLOSED)
    return;

  g_object_ref (self);
  self->phase = PHASE_CLOSED;
  g_cancellable_cancel (self->cancellable);
  if (self->timer)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
  stop_read (self);
  if (self->connection)
    {
      GSocket *socket = g_socket_connection_get_socket (self->connection);
      /* Closing a socket that failed can only fail again; nothing to do. */
      g_socket_close (socket, NULL);
    }
  g_clear_pointer (&self->pending_metadata, g_bytes_unref);

  if (error)
    g_debug ("session %s closed: %s", self->remote_address, error->message);
  else
    g_debug ("session %s closed", self->remote_address);
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0, error);
  g_object_unref (self);
}

/* Closes because of bad input or a failure. */
static void
fail (VezaRtmpSession *self, const GError *error)
{
  if (self->phase == PHASE_CLOSED)
    return;
  if (g_error_matches (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_TIMEOUT))
    g_message ("closing RTMP connection from %s: %s", self->remote_address, error->message);
  else if (error->domain == G_IO_ERROR)
    g_debug ("RTMP connection from %s lost: %s", self->remote_address, error->message);
  else
    g_warning ("closing RTMP connection from %s: %s", self->remote_address, error->message);
  finish (self, error);
}

/* Closes once the queued replies are written. */
static void
close_after_flush (VezaRtmpSession *self)
{
  if (self->phase >= PHASE_CLOSING)
    return;
  self->phase = PHASE_CLOSING;
  self->closing_since_us = g_get_monotonic_time ();
  if (!self->write_pending && self->outq->len == 0)
    finish (self, NULL);
  else
    flush (self);
}

void
veza_rtmp_session_close (VezaRtmpSession *self)
{
  g_return_if_fail (VEZA_IS_RTMP_SESSION (self));
  finish (self, NULL);
}

/* ---------------------------------------------------------------------- */
/* Writing                                                                */
/* ---------------------------------------------------------------------- */

static void
write_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (VezaRtmpSession) self = user_data;
  g_autoptr (GError) error = NULL;

  self->write_pending = FALSE;
  g_clear_pointer (&self->writing, g_bytes_unref);
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      if (self->phase != PHASE_CLOSED)
        fail (self, error);
      return;
    }
  if (self->phase == PHASE_CLOSED)
    return;
  if (self->outq->len > 0)
    flush (self);
  else if (self->phase == PHASE_CLOSING)
    finish (self, NULL);
}

static void
flush (VezaRtmpSession *self)
{
  if (self->write_pending || self->outq->len == 0 || self->phase == PHASE_CLOSED ||
      !self->started)
    return;

  self->writing = g_byte_array_free_to_bytes (self->outq);
  self->outq = g_byte_array_new ();
  self->write_pending = TRUE;
  g_output_stream_write_all_async (self->out, g_bytes_get_data (self->writing, NULL),
                                   g_bytes_get_size (self->writing), G_PRIORITY_DEFAULT,
                                   self->cancellable, write_cb, g_object_ref (self));
}

static void
send_message (VezaRtmpSession *self, guint32 csid, guint8 type, guint32 stream_id,
              const guint8 *payload, gsize len)
{
  if (self->phase == PHASE_CLOSED)
    return;
  if (self->outq->len > MAX_OUT_QUEUE)
    {
      g_autoptr (GError) error = g_error_new (VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_LIMIT,
                                              "peer does not read its replies");
      fail (self, error);
      return;
    }
  veza_rtmp_chunk_writer_write (self->writer, self->outq, csid, type, 0, stream_id, payload, len);
  flush (self);
}

static void
send_u32 (VezaRtmpSession *self, guint8 type, guint32 value, int extra_byte)
{
  guint8 b[5] = { value >> 24, value >> 16, value >> 8, value, (guint8) extra_byte };
  send_message (self, CSID_CONTROL, type, 0, b, extra_byte >= 0 ? 5 : 4);
}

static void
send_user_control (VezaRtmpSession *self, guint16 event, guint32 data)
{
  guint8 b[6] = { event >> 8, event, data >> 24, data >> 16, data >> 8, data };
  send_message (self, CSID_CONTROL, VEZA_RTMP_MSG_USER_CONTROL, 0, b, sizeof b);
}

/* Sends an AMF0 command made of the given values (taking ownership), ended by NULL. */
G_GNUC_NULL_TERMINATED static void
send_command (VezaRtmpSession *self, guint32 csid, guint32 stream_id, VezaAmf0Value *first, ...)
{
  g_autoptr (GByteArray) body = g_byte_array_new ();
  va_list ap;

  va_start (ap, first);
  for (VezaAmf0Value *v = first; v != NULL; v = va_arg (ap, VezaAmf0Value *))
    {
      veza_amf0_encode (body, v);
      veza_amf0_value_free (v);
    }
  va_end (ap);
  send_message (self, csid, VEZA_RTMP_MSG_COMMAND_AMF0, stream_id, body->data, body->len);
}

static VezaAmf0Value *
status_info (const char *level, const char *code, const char *description)
{
  VezaAmf0Value *info = veza_amf0_value_new_object ();
  veza_amf0_value_set_string (info, "level", level);
  veza_amf0_value_set_string (info, "code", code);
  veza_amf0_value_set_string (info, "description", description);
  return info;
}

static void
send_on_status (VezaRtmpSession *self, guint32 stream_id, const char *level, const char *code,
                const char *description)
{
  send_command (self, CSID_STATUS, stream_id, veza_amf0_value_new_string ("onStatus"),
                veza_amf0_value_new_number (0), veza_amf0_value_new_null (),
                status_info (level, code, description), NULL);
}

static void
send_result (VezaRtmpSession *self, double txid, VezaAmf0Value *value)
{
  send_command (self, CSID_COMMAND, 0, veza_amf0_value_new_string ("_result"),
                veza_amf0_value_new_number (txid), veza_amf0_value_new_null (),
                value ? value : veza_amf0_value_new_undefined (), NULL);
}

static void
send_error (VezaRtmpSession *self, double txid, const char *code, const char *description)
{
  send_command (self, CSID_COMMAND, 0, veza_amf0_value_new_string ("_error"),
                veza_amf0_value_new_number (txid), veza_amf0_value_new_null (),
                status_info ("error", code, description), NULL);
}

/* ---------------------------------------------------------------------- */
/* Publishing                                                             */
/* ---------------------------------------------------------------------- */

static void
emit_media (VezaRtmpSession *self, guint type, guint32 timestamp, GBytes *payload)
{
  g_signal_emit (self, signals[SIGNAL_MEDIA], 0, type, timestamp, payload);
}

void
veza_rtmp_session_accept_publish (VezaRtmpSession *self)
{
  g_return_if_fail (VEZA_IS_RTMP_SESSION (self));

  if (self->phase != PHASE_PUBLISH_PENDING)
    {
      g_debug ("accept_publish on session %s that has no pending publish",
               self->remote_address);
      return;
    }
  self->phase = PHASE_PUBLISHING;
  g_message ("RTMP publish accepted from %s (app \"%s\")", self->remote_address,
             self->log_app);
  send_user_control (self, 0 /* StreamBegin */, self->publish_stream_id);
  send_on_status (self, self->publish_stream_id, "status", "NetStream.Publish.Start",
                  "Publishing.");

  if (self->pending_metadata)
    {
      g_autoptr (GBytes) meta = g_steal_pointer (&self->pending_metadata);
      g_object_ref (self);
      emit_media (self, VEZA_RTMP_MSG_DATA_AMF0, self->pending_metadata_ts, meta);
      g_object_unref (self);
    }
}

void
veza_rtmp_session_reject_publish (VezaRtmpSession *self, const char *code,
                                  const char *description)
{
  g_return_if_fail (VEZA_IS_RTMP_SESSION (self));

  if (self->phase != PHASE_PUBLISH_PENDING)
    {
      g_debug ("reject_publish on session %s that has no pending publish",
               self->remote_address);
      return;
    }
  g_message ("RTMP publish rejected from %s (app \"%s\"): %s", self->remote_address,
             self->log_app, code ? code : "NetStream.Publish.Denied");
  send_on_status (self, self->publish_stream_id, "error",
                  code ? code : "NetStream.Publish.Denied",
                  description ? description : "Publishing refused.");
  close_after_flush (self);
}

/* ---------------------------------------------------------------------- */
/* Commands                                                               */
/* ---------------------------------------------------------------------- */

static const char *
arg_string (GPtrArray *args, guint i)
{
  return i < args->len ? veza_amf0_value_get_string (g_ptr_array_index (args, i), NULL) : NULL;
}

/* A copy of @s up to any '?', or NULL if that is not valid UTF-8. */
static char *
strip_query (const char *s)
{
  const char *q = strchr (s, '?');
  g_autofree char *r = q ? g_strndup (s, q - s) : g_strdup (s);
  if (!g_utf8_validate (r, -1, NULL))
    return NULL;
  return g_steal_pointer (&r);
}

static gboolean
handle_connect (VezaRtmpSession *self, double txid, GPtrArray *args, GError **error)
{
  const VezaAmf0Value *obj = args->len > 2 ? g_ptr_array_index (args, 2) : NULL;
  const char *app;

  if (self->phase != PHASE_HANDSHAKEN)
    {
      g_set_error_literal (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_PROTOCOL,
                           "connect sent twice");
      return FALSE;
    }
  app = veza_amf0_value_lookup_string (obj, "app");
  self->app = strip_query (app ? app : "");
  if (self->app == NULL)
    {
      g_set_error_literal (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_PROTOCOL,
                           "connect with an application name that is not UTF-8");
      return FALSE;
    }
  /* "live/" and "live" are the same application. */
  for (gsize n = strlen (self->app); n > 0 && self->app[n - 1] == '/'; n--)
    self->app[n - 1] = '\0';
  self->log_app = g_strndup (self->app, strcspn (self->app, "/"));

  const VezaAmf0Value *enc = veza_amf0_value_lookup (obj, "objectEncoding");
  self->object_encoding = enc ? veza_amf0_value_get_number (enc) : 0;
  self->phase = PHASE_CONNECTED;
  g_debug ("session %s: connect to app \"%s\"", self->remote_address, self->log_app);

  send_u32 (self, VEZA_RTMP_MSG_WINDOW_ACK_SIZE, OUR_WINDOW_ACK, -1);
  send_u32 (self, VEZA_RTMP_MSG_SET_PEER_BANDWIDTH, PEER_BANDWIDTH, 2 /* dynamic */);
  send_u32 (self, VEZA_RTMP_MSG_SET_CHUNK_SIZE, OUT_CHUNK_SIZE, -1);

  VezaAmf0Value *props = veza_amf0_value_new_object ();
  veza_amf0_value_set_string (props, "fmsVer", "FMS/3,5,7,7009");
  veza_amf0_value_set_number (props, "capabilities", 31);
  veza_amf0_value_set_number (props, "mode", 1);
  VezaAmf0Value *info = status_info ("status", "NetConnection.Connect.Success",
                                     "Connection succeeded.");
  veza_amf0_value_set_number (info, "objectEncoding", self->object_encoding);
  send_command (self, CSID_COMMAND, 0, veza_amf0_value_new_string ("_result"),
                veza_amf0_value_new_number (txid), props, info, NULL);
  return TRUE;
}

static gboolean
handle_publish (VezaRtmpSession *self, guint32 stream_id, GPtrArray *args, GError **error)
{
  const char *name = arg_string (args, 3);

  if (self->phase != PHASE_CONNECTED)
    {
      g_set_error (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_PROTOCOL,
                   "publish %s", self->phase < PHASE_CONNECTED ? "before connect"
                                                               : "sent twice");
      return FALSE;
    }

  self->publish_stream_id = stream_id ? stream_id : 1;
  self->phase = PHASE_PUBLISH_PENDING;
  self->publish_requested_us = g_get_monotonic_time ();
  g_clear_pointer (&self->stream_name, g_free);
  self->stream_name = name ? strip_query (name) : NULL;

  if (self->stream_name == NULL || self->stream_name[0] == '\0')
    {
      veza_rtmp_session_reject_publish (self, "NetStream.Publish.BadName",
                                        "Missing or invalid stream name.");
      return TRUE;
    }

  g_debug ("session %s: publish on app \"%s\"", self->remote_address, self->log_app);
  if (self->publish_func == NULL || !self->publish_func (self, self->publish_data))
    veza_rtmp_session_reject_publish (self, "NetStream.Publish.Denied",
                                      "Publishing is not possible here.");
  return TRUE;
}

static void
handle_unpublish (VezaRtmpSession *self)
{
  if (self->phase == PHASE_PUBLISHING)
    {
      self->phase = PHASE_UNPUBLISHED;
      g_message ("RTMP publisher %s unpublished", self->remote_address);
      g_signal_emit (self, signals[SIGNAL_UNPUBLISHED], 0);
    }
  else if (self->phase == PHASE_PUBLISH_PENDING)
    self->phase = PHASE_UNPUBLISHED;
}

static gboolean
handle_command (VezaRtmpSession *self, const VezaRtmpMessage *msg, gsize skip, GError **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (msg->payload, &size);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GPtrArray) args = NULL;
  const char *name;
  double txid = 0;

  if (skip > size)
    skip = size;
  args = veza_amf0_decode_all (data + skip, size - skip, &local_error);
  if (args == NULL)
    {
      g_set_error (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_PROTOCOL,
                   "malformed command: %s", local_error->message);
      return FALSE;
    }
  name = arg_string (args, 0);
  if (name == NULL)
    {
      g_set_error_literal (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_PROTOCOL,
                           "command without a name");
      return FALSE;
    }
  if (args->len > 1 &&
      veza_amf0_value_kind (g_ptr_array_index (args, 1)) == VEZA_AMF0_NUMBER)
    txid = veza_amf0_value_get_number (g_ptr_array_index (args, 1));

  if (g_str_equal (name, "connect"))
    return handle_connect (self, txid, args, error);

  if (self->phase < PHASE_CONNECTED)
    {
      g_set_error (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_PROTOCOL,
                   "command before connect");
      return FALSE;
    }

  if (g_str_equal (name, "publish"))
    return handle_publish (self, msg->stream_id, args, error);

  if (g_str_equal (name, "createStream"))
    {
      send_result (self, txid, veza_amf0_value_new_number (++self->next_stream_id));
    }
  else if (g_str_equal (name, "releaseStream"))
    {
      if (txid > 0)
        send_result (self, txid, NULL);
    }
  else if (g_str_equal (name, "FCPublish"))
    {
      if (txid > 0)
        send_result (self, txid, NULL);
      send_command (self, CSID_COMMAND, 0, veza_amf0_value_new_string ("onFCPublish"),
                    veza_amf0_value_new_number (0), veza_amf0_value_new_null (),
                    status_info ("status", "NetStream.Publish.Start", "FCPublish"), NULL);
    }
  else if (g_str_equal (name, "FCUnpublish") || g_str_equal (name, "deleteStream") ||
           g_str_equal (name, "closeStream"))
    {
      if (txid > 0)
        send_result (self, txid, NULL);
      if (g_str_equal (name, "FCUnpublish"))
        send_command (self, CSID_COMMAND, 0, veza_amf0_value_new_string ("onFCUnpublish"),
                      veza_amf0_value_new_number (0), veza_amf0_value_new_null (),
                      status_info ("status", "NetStream.Unpublish.Success", "FCUnpublish"),
                      NULL);
      handle_unpublish (self);
    }
  else if (g_str_equal (name, "_checkbw"))
    {
      send_result (self, txid, NULL);
    }
  else if (g_str_equal (name, "getStreamLength") || g_str_equal (name, "play") ||
           g_str_equal (name, "play2"))
    {
      const char *desc = "This server only accepts publishing.";
      if (txid > 0)
        send_error (self, txid, "NetStream.Play.Failed", desc);
      if (!g_str_equal (name, "getStreamLength"))
        send_on_status (self, msg->stream_id, "error", "NetStream.Play.Failed", desc);
    }
  else if (g_str_equal (name, "_result") || g_str_equal (name, "_error") ||
           g_str_equal (name, "onStatus") || g_str_equal (name, "onBWDone"))
    {
      /* Answers to nothing we asked. */
    }
  else
    {
      g_debug ("session %s: ignoring command \"%.32s\"", self->remote_address, name);
      if (txid > 0)
        send_error (self, txid, "NetConnection.Call.Failed", "Unknown command.");
    }
  return TRUE;
}

/* Script data: only onMetaData, with any @setDataFrame removed. */
static void
handle_data (VezaRtmpSession *self, GBytes *payload, guint32 timestamp)
{
  gsize size, used = 0;
  const guint8 *data = g_bytes_get_data (payload, &size);
  g_autoptr (VezaAmf0Value) first = NULL;
  g_autoptr (GPtrArray) rest = NULL;
  g_autoptr (GBytes) body = NULL;
  const char *name;

  if (self->phase != PHASE_PUBLISHING && self->phase != PHASE_PUBLISH_PENDING &&
      self->phase != PHASE_CONNECTED)
    return;

  first = veza_amf0_decode (data, size, &used, NULL);
  name = first ? veza_amf0_value_get_string (first, NULL) : NULL;
  if (g_strcmp0 (name, "@setDataFrame") == 0)
    {
      body = g_bytes_new_from_bytes (payload, used, size - used);
      data += used;
      size -= used;
      g_clear_pointer (&first, veza_amf0_value_free);
      first = veza_amf0_decode (data, size, NULL, NULL);
      name = first ? veza_amf0_value_get_string (first, NULL) : NULL;
    }
  else
    body = g_bytes_ref (payload);

  /* Only whole, valid metadata goes on. */
  if (g_strcmp0 (name, "onMetaData") != 0 ||
      (rest = veza_amf0_decode_all (data, size, NULL)) == NULL)
    {
      g_debug ("session %s: ignoring script data", self->remote_address);
      return;
    }

  if (self->phase == PHASE_PUBLISHING)
    emit_media (self, VEZA_RTMP_MSG_DATA_AMF0, timestamp, body);
  else
    {
      g_clear_pointer (&self->pending_metadata, g_bytes_unref);
      self->pending_metadata = g_steal_pointer (&body);
      self->pending_metadata_ts = timestamp;
    }
}

/* An aggregate message holds FLV tags; their timestamps are relative to the
 * first one, which is the aggregate's. */
static gboolean
handle_aggregate (VezaRtmpSession *self, const VezaRtmpMessage *msg, GError **error)
{
  gsize size, pos = 0;
  const guint8 *p = g_bytes_get_data (msg->payload, &size);
  gboolean have_base = FALSE;
  guint32 base = 0;

  while (pos < size && self->phase == PHASE_PUBLISHING)
    {
      if (size - pos < 11)
        break;
      guint8 type = p[pos];
      gsize len = ((gsize) p[pos + 1] << 16) | ((gsize) p[pos + 2] << 8) | p[pos + 3];
      guint32 ts = ((guint32) p[pos + 7] << 24) | ((guint32) p[pos + 4] << 16) |
                   ((guint32) p[pos + 5] << 8) | p[pos + 6];
      if (size - pos - 11 < len)
        {
          g_set_error_literal (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_PROTOCOL,
                               "truncated aggregate message");
          return FALSE;
        }
      if (!have_base)
        {
          base = ts;
          have_base = TRUE;
        }
      g_autoptr (GBytes) body = g_bytes_new_from_bytes (msg->payload, pos + 11, len);
      guint32 abs_ts = msg->timestamp + (ts - base);
      if (type == VEZA_RTMP_MSG_AUDIO || type == VEZA_RTMP_MSG_VIDEO)
        emit_media (self, type, abs_ts, body);
      else if (type == VEZA_RTMP_MSG_DATA_AMF0)
        handle_data (self, body, abs_ts);
      pos += 11 + len + 4;
    }
  return TRUE;
}

static gboolean
handle_message (VezaRtmpSession *self, const VezaRtmpMessage *msg, GError **error)
{
  gsize size;
  const guint8 *p = g_bytes_get_data (msg->payload, &size);

  switch (msg->type)
    {
    case VEZA_RTMP_MSG_ACKNOWLEDGEMENT:
    case VEZA_RTMP_MSG_SET_PEER_BANDWIDTH:
      return TRUE;

    case VEZA_RTMP_MSG_WINDOW_ACK_SIZE:
      if (size >= 4)
        self->peer_window = ((guint32) p[0] << 24) | ((guint32) p[1] << 16) |
                            ((guint32) p[2] << 8) | p[3];
      return TRUE;

    case VEZA_RTMP_MSG_USER_CONTROL:
      if (size >= 6 && p[0] == 0 && p[1] == 6 /* PingRequest */)
        {
          guint32 t = ((guint32) p[2] << 24) | ((guint32) p[3] << 16) |
                      ((guint32) p[4] << 8) | p[5];
          send_user_control (self, 7 /* PingResponse */, t);
        }
      return TRUE;

    case VEZA_RTMP_MSG_AUDIO:
    case VEZA_RTMP_MSG_VIDEO:
      if (self->phase == PHASE_PUBLISHING)
        emit_media (self, msg->type, msg->timestamp, msg->payload);
      return TRUE;

    case VEZA_RTMP_MSG_DATA_AMF0:
      handle_data (self, msg->payload, msg->timestamp);
      return TRUE;

    case VEZA_RTMP_MSG_DATA_AMF3:
      if (size > 0)
        {
          g_autoptr (GBytes) body = g_bytes_new_from_bytes (msg->payload, 1, size - 1);
          handle_data (self, body, msg->timestamp);
        }
      return TRUE;

    case VEZA_RTMP_MSG_COMMAND_AMF0:
      return handle_command (self, msg, 0, error);

    case VEZA_RTMP_MSG_COMMAND_AMF3:
      /* An AMF3 command message starts with one format byte, then AMF0. */
      return handle_command (self, msg, 1, error);

    case VEZA_RTMP_MSG_AGGREGATE:
      return handle_aggregate (self, msg, error);

    default:
      g_debug ("session %s: ignoring message type %u", self->remote_address, msg->type);
      return TRUE;
    }
}

/* ---------------------------------------------------------------------- */
/* Reading                                                                */
/* ---------------------------------------------------------------------- */

static gboolean
process_input (VezaRtmpSession *self, const guint8 *data, gsize len, GError **error)
{
  g_autoptr (GPtrArray) messages = NULL;

  if (self->phase == PHASE_HANDSHAKE)
    {
      gsize used = 0;
      if (!veza_rtmp_handshake_feed (self->handshake, data, len, &used, self->outq, error))
        return FALSE;
      flush (self);
      if (!veza_rtmp_handshake_is_done (self->handshake))
        return TRUE;
      g_clear_pointer (&self->handshake, veza_rtmp_handshake_free);
      self->phase = PHASE_HANDSHAKEN;
      data += used;
      len -= used;
    }

  messages = g_ptr_array_new_with_free_func ((GDestroyNotify) veza_rtmp_message_free);
  if (!veza_rtmp_chunk_reader_feed (self->reader, data, len, messages, error))
    return FALSE;

  for (guint i = 0; i < messages->len && self->phase < PHASE_CLOSING; i++)
    if (!handle_message (self, g_ptr_array_index (messages, i), error))
      return FALSE;

  if (self->peer_window > 0 && self->phase < PHASE_CLOSING &&
      self->bytes_received - self->last_ack >= self->peer_window)
    {
      self->last_ack = self->bytes_received;
      send_u32 (self, VEZA_RTMP_MSG_ACKNOWLEDGEMENT, (guint32) self->bytes_received, -1);
    }
  return TRUE;
}

/* Handles one read: @n bytes in read_buf, 0 at end of stream, -1 with
 * @error.  Returns FALSE once the session is closed. */
static gboolean
handle_read (VezaRtmpSession *self, gssize n, const GError *error)
{
  g_autoptr (GError) local_error = NULL;

  if (n < 0)
    {
      fail (self, error);
      return FALSE;
    }
  if (n == 0)
    {
      if (self->phase == PHASE_HANDSHAKE || self->phase == PHASE_HANDSHAKEN)
        {
          g_set_error_literal (&local_error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_HANDSHAKE,
                               "connection closed during the handshake");
          fail (self, local_error);
        }
      else
        finish (self, NULL);
      return FALSE;
    }

  self->bytes_received += n;
  self->last_rx_us = g_get_monotonic_time ();
  if (self->phase < PHASE_CLOSING && !process_input (self, self->read_buf, n, &local_error))
    {
      fail (self, local_error);
      return FALSE;
    }
  return self->phase != PHASE_CLOSED;
}

/* The socket is readable.  One source stays attached for the whole
 * session (rather than one asynchronous read, with its task and sources,
 * per read): a publisher sends one small message every few milliseconds.
 * It watches the file descriptor itself, and may recurse: a GSocket
 * source re-arms its timeout after every dispatch, and a source that may
 * not recurse has its descriptor taken out of the poll set during every
 * dispatch and put back after, each of which wakes the main context once
 * more (an extra write, read and poll per message).  A read that does not fill the buffer drained the socket;
 * otherwise the reads go on, at most READS_PER_DISPATCH times so that
 * other connections get their turn. */
static gboolean
readable_cb (gint fd, GIOCondition condition, gpointer user_data)
{
  g_autoptr (VezaRtmpSession) self = g_object_ref (user_data);
  GSocket *socket = g_socket_connection_get_socket (self->connection);

  for (guint i = 0; i < READS_PER_DISPATCH; i++)
    {
      g_autoptr (GError) error = NULL;
      gssize n;

      if (self->phase == PHASE_CLOSED)
        return G_SOURCE_REMOVE;
      n = g_socket_receive_with_blocking (socket, (char *) self->read_buf, READ_SIZE, FALSE,
                                          NULL, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      if (!handle_read (self, n, error))
        {
          /* closed: finish() stopped the reading already */
          g_clear_pointer (&self->read_source, g_source_unref);
          self->watch = NULL;
          return G_SOURCE_REMOVE;
        }
      /* Until media flows, acknowledge at once: a publisher that sends
       * two small commands in a row (Nagle) holds the second until the
       * first is acknowledged, and a delayed acknowledgement costs up to
       * 40 ms per command on the way to NetStream.Publish.Start.  Once it
       * flows, the opposite: nothing is sent back, so acknowledgements may
       * wait (the kernel leaves that mode on its own, hence every read).
       * Draining the socket otherwise acknowledges each small segment at
       * once, which lets the publisher send every write as a segment of
       * its own and wakes us for each; delayed, its writes coalesce, and
       * both sides do about a third less work per stream for at most one
       * delayed-acknowledgement time (40 ms) of added latency.  Full-sized
       * segments are still acknowledged every second one. */
      if (self->phase < PHASE_PUBLISHING)
        g_socket_set_option (socket, IPPROTO_TCP, TCP_QUICKACK, 1, NULL);
      else if (self->phase == PHASE_PUBLISHING)
        g_socket_set_option (socket, IPPROTO_TCP, TCP_QUICKACK, 0, NULL);
      if (n < READ_SIZE)
        return G_SOURCE_CONTINUE;
    }
  return G_SOURCE_CONTINUE;
}

static void
start_read (VezaRtmpSession *self)
{
  GSocket *socket = g_socket_connection_get_socket (self->connection);

  /* replies are small and each one is awaited: none waits for Nagle */
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_QUICKACK, 1, NULL);

  if (self->poller != NULL)
    {
      g_autoptr (GError) error = NULL;

      self->watch = veza_fd_poller_watch (self->poller, g_socket_get_fd (socket), readable_cb,
                                          self, &error);
      if (self->watch != NULL)
        return;
      g_debug ("falling back to a source of its own: %s", error->message);
    }
  self->read_source = g_unix_fd_source_new (g_socket_get_fd (socket),
                                            G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_can_recurse (self->read_source, TRUE);
  g_source_set_callback (self->read_source, G_SOURCE_FUNC (readable_cb), self, NULL);
  g_source_attach (self->read_source, self->context);
}

static void
stop_read (VezaRtmpSession *self)
{
  if (self->watch != NULL)
    {
      veza_fd_watch_remove (self->watch);
      self->watch = NULL;
    }
  if (self->read_source != NULL)
    {
      g_source_destroy (self->read_source);
      g_clear_pointer (&self->read_source, g_source_unref);
    }
}

static gboolean
tick (gpointer user_data)
{
  VezaRtmpSession *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 handshake_us = (gint64) self->limits.handshake_timeout_s * G_USEC_PER_SEC;
  g_autoptr (GError) error = NULL;

  if (self->phase == PHASE_CLOSING)
    {
      if (now - self->closing_since_us > CLOSE_FLUSH_S * G_USEC_PER_SEC)
        finish (self, NULL);
      return G_SOURCE_CONTINUE;
    }
  if (self->phase == PHASE_PUBLISH_PENDING)
    {
      if (now - self->publish_requested_us > handshake_us)
        veza_rtmp_session_reject_publish (self, "NetStream.Publish.Denied",
                                          "No answer to the publish request in time.");
    }
  else if (self->phase < PHASE_PUBLISH_PENDING && now - self->started_us > handshake_us)
    {
      g_set_error (&error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_TIMEOUT,
                   "no publish within %u s", self->limits.handshake_timeout_s);
      fail (self, error);
    }
  else if (now - self->last_rx_us > (gint64) self->limits.idle_timeout_s * G_USEC_PER_SEC)
    {
      g_set_error (&error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_TIMEOUT,
                   "nothing received for %u s", self->limits.idle_timeout_s);
      fail (self, error);
    }
  return G_SOURCE_CONTINUE;
}

/* ---------------------------------------------------------------------- */
/* Object                                                                 */
/* ---------------------------------------------------------------------- */

VezaRtmpSession *
veza_rtmp_session_new (GSocketConnection    *connection,
                       const VezaRtmpLimits *limits,
                       VezaRtmpPublishFunc   publish_func,
                       gpointer              user_data)
{
  VezaRtmpSession *self = g_object_new (VEZA_TYPE_RTMP_SESSION, NULL);
  g_autoptr (GSocketAddress) addr = NULL;

  self->connection = g_object_ref (connection);
  self->out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  if (limits)
    self->limits = *limits;
  else
    veza_rtmp_limits_init_default (&self->limits);
  self->publish_func = publish_func;
  self->publish_data = user_data;
  self->reader = veza_rtmp_chunk_reader_new (self->limits.max_message_size,
                                             self->limits.max_chunk_streams);

  addr = g_socket_connection_get_remote_address (connection, NULL);
  if (G_IS_INET_SOCKET_ADDRESS (addr))
    {
      GInetAddress *ip = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (addr));
      g_autofree char *ip_str = g_inet_address_to_string (ip);
      guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (addr));
      if (g_inet_address_get_family (ip) == G_SOCKET_FAMILY_IPV6)
        self->remote_address = g_strdup_printf ("[%s]:%u", ip_str, port);
      else
        self->remote_address = g_strdup_printf ("%s:%u", ip_str, port);
    }
  else
    self->remote_address = g_strdup ("unknown");
  return self;
}

/**
 * veza_rtmp_session_start:
 * @poller: (nullable): where to watch the socket (the session attaches a
 *   source of its own when %NULL); must outlive the session's reading
 */
void
veza_rtmp_session_start (VezaRtmpSession *self, VezaFdPoller *poller)
{
  g_return_if_fail (!self->started);

  self->started = TRUE;
  self->poller = poller != NULL ? veza_fd_poller_ref (poller) : NULL;
  self->started_us = self->last_rx_us = g_get_monotonic_time ();
  self->context = g_main_context_ref_thread_default ();
  self->timer = g_timeout_source_new_seconds (TICK_S);
  g_source_set_callback (self->timer, tick, self, NULL);
  g_source_attach (self->timer, self->context);
  start_read (self);
}

const char *
veza_rtmp_session_get_remote_address (VezaRtmpSession *self)
{
  g_return_val_if_fail (VEZA_IS_RTMP_SESSION (self), NULL);
  return self->remote_address;
}

const char *
veza_rtmp_session_get_app (VezaRtmpSession *self)
{
  g_return_val_if_fail (VEZA_IS_RTMP_SESSION (self), NULL);
  return self->app;
}

const char *
veza_rtmp_session_get_stream_name (VezaRtmpSession *self)
{
  g_return_val_if_fail (VEZA_IS_RTMP_SESSION (self), NULL);
  return self->stream_name;
}

guint64
veza_rtmp_session_get_bytes_received (VezaRtmpSession *self)
{
  g_return_val_if_fail (VEZA_IS_RTMP_SESSION (self), 0);
  return self->bytes_received;
}

static void
veza_rtmp_session_dispose (GObject *object)
{
  VezaRtmpSession *self = VEZA_RTMP_SESSION (object);

  if (self->timer)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
  stop_read (self);
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (veza_rtmp_session_parent_class)->dispose (object);
}

static void
veza_rtmp_session_finalize (GObject *object)
{
  VezaRtmpSession *self = VEZA_RTMP_SESSION (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->poller, veza_fd_poller_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->handshake, veza_rtmp_handshake_free);
  g_clear_pointer (&self->reader, veza_rtmp_chunk_reader_free);
  g_clear_pointer (&self->writer, veza_rtmp_chunk_writer_free);
  g_clear_pointer (&self->outq, g_byte_array_unref);
  g_clear_pointer (&self->writing, g_bytes_unref);
  g_clear_pointer (&self->pending_metadata, g_bytes_unref);
  g_free (self->read_buf);
  g_free (self->remote_address);
  g_free (self->app);
  g_free (self->log_app);
  g_free (self->stream_name);
  G_OBJECT_CLASS (veza_rtmp_session_parent_class)->finalize (object);
}

static void
veza_rtmp_session_class_init (VezaRtmpSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = veza_rtmp_session_dispose;
  object_class->finalize = veza_rtmp_session_finalize;

  signals[SIGNAL_MEDIA] =
    g_signal_new ("media", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_UINT, G_TYPE_BYTES);
  signals[SIGNAL_UNPUBLISHED] =
    g_signal_new ("unpublished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
veza_rtmp_session_init (VezaRtmpSession *self)
{
  self->cancellable = g_cancellable_new ();
  self->handshake = veza_rtmp_handshake_new ();
  self->writer = veza_rtmp_chunk_writer_new ();
  self->outq = g_byte_array_new ();
  self->read_buf = g_malloc (READ_SIZE);
  self->phase = PHASE_HANDSHAKE;
}
