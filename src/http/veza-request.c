/* veza-request.c — one HTTP request as handlers and plugins see it
 *
 * A VezaRequest wraps a paused SoupServerMessage. Handlers answer it once,
 * possibly from an asynchronous callback; answering unpauses the message.
 * If the client went away meanwhile, the answer is dropped quietly.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-http-server.h"
#include "veza-json.h"

#include <glib/gi18n.h>
#include <string.h>

struct _VezaRequest {
  gatomicrefcount    ref_count;
  SoupServerMessage *msg;
  char              *method;
  char              *path;
  GHashTable        *params;
  GHashTable        *query;
  char              *user_id;
  char              *remote_address;
  JsonNode          *json;
  gulong             finished_id;
  gboolean           finished;   /* the message is gone (client closed) */
  gboolean           answered;
};

G_DEFINE_BOXED_TYPE (VezaRequest, veza_request, veza_request_ref, veza_request_unref)

static void
on_message_finished (SoupServerMessage *msg,
                     VezaRequest       *request)
{
  request->finished = TRUE;
}

VezaRequest *
veza_request_new (SoupServerMessage *msg,
                  const char        *path)
{
  VezaRequest *request = g_new0 (VezaRequest, 1);
  GUri *uri = soup_server_message_get_uri (msg);
  const char *query = g_uri_get_query (uri);
  GSocketAddress *remote;

  g_atomic_ref_count_init (&request->ref_count);
  request->msg = g_object_ref (msg);
  request->method = g_strdup (soup_server_message_get_method (msg));
  request->path = g_strdup (path);
  request->params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (query != NULL)
    request->query = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
  if (request->query == NULL)
    request->query = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  remote = soup_server_message_get_remote_address (msg);
  if (G_IS_INET_SOCKET_ADDRESS (remote))
    request->remote_address =
      g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
  else
    request->remote_address = g_strdup ("unknown");

  request->finished_id = g_signal_connect (msg, "finished",
                                           G_CALLBACK (on_message_finished), request);
  return request;
}

VezaRequest *
veza_request_ref (VezaRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  g_atomic_ref_count_inc (&request->ref_count);
  return request;
}

void
veza_request_unref (VezaRequest *request)
{
  g_return_if_fail (request != NULL);

  if (!g_atomic_ref_count_dec (&request->ref_count))
    return;

  /* A handler that forgot to answer must not leave the client hanging. */
  if (!request->answered && !request->finished)
    {
      g_warning ("request %s %s was never answered", request->method, request->path);
      veza_request_respond_error (request, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                                  "internal", _("Internal error"));
    }

  g_signal_handler_disconnect (request->msg, request->finished_id);
  g_object_unref (request->msg);
  g_free (request->method);
  g_free (request->path);
  g_hash_table_unref (request->params);
  g_hash_table_unref (request->query);
  g_free (request->user_id);
  g_free (request->remote_address);
  g_clear_pointer (&request->json, json_node_unref);
  g_free (request);
}

const char *
veza_request_get_method (VezaRequest *request)
{
  return request->method;
}

const char *
veza_request_get_path (VezaRequest *request)
{
  return request->path;
}

void
veza_request_set_param (VezaRequest *request,
                        const char  *name,
                        const char  *value)
{
  g_hash_table_replace (request->params, g_strdup (name), g_strdup (value));
}

const char *
veza_request_get_param (VezaRequest *request,
                        const char  *name)
{
  return g_hash_table_lookup (request->params, name);
}

const char *
veza_request_get_query (VezaRequest *request,
                        const char  *name)
{
  return g_hash_table_lookup (request->query, name);
}

const char *
veza_request_get_header (VezaRequest *request,
                         const char  *name)
{
  return soup_message_headers_get_one (soup_server_message_get_request_headers (request->msg),
                                       name);
}

GBytes *
veza_request_get_body (VezaRequest *request)
{
  SoupMessageBody *body = soup_server_message_get_request_body (request->msg);

  return soup_message_body_flatten (body);
}

JsonObject *
veza_request_get_json_object (VezaRequest *request)
{
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) error = NULL;
  const char *data;
  gsize len;

  if (request->json != NULL)
    return json_node_get_object (request->json);

  body = veza_request_get_body (request);
  data = g_bytes_get_data (body, &len);
  if (len == 0)
    {
      veza_request_respond_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                                  _("A JSON object body is required"));
      return NULL;
    }
  if (memchr (data, '\0', len) != NULL || !g_utf8_validate (data, len, NULL))
    {
      veza_request_respond_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                                  _("The body is not valid UTF-8 JSON"));
      return NULL;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, len, &error))
    {
      veza_request_respond_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                                  _("Malformed JSON"));
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      veza_request_respond_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                                  _("The body must be a JSON object"));
      return NULL;
    }

  request->json = json_parser_steal_root (parser);
  return json_node_get_object (request->json);
}

void
veza_request_set_user_id (VezaRequest *request,
                          const char  *user_id)
{
  g_free (request->user_id);
  request->user_id = g_strdup (user_id);
}

const char *
veza_request_get_user_id (VezaRequest *request)
{
  return request->user_id;
}

const char *
veza_request_get_remote_address (VezaRequest *request)
{
  return request->remote_address;
}

gpointer
veza_request_get_message (VezaRequest *request)
{
  return request->msg;
}

const char *
veza_request_get_bearer_token (VezaRequest *request)
{
  const char *value = veza_request_get_header (request, "Authorization");

  if (value == NULL || g_ascii_strncasecmp (value, "Bearer ", 7) != 0)
    return NULL;
  value += 7;
  while (*value == ' ')
    value++;
  return *value != '\0' ? value : NULL;
}

gboolean
veza_request_is_answered (VezaRequest *request)
{
  return request->answered;
}

void
veza_request_set_response_header (VezaRequest *request,
                                  const char  *name,
                                  const char  *value)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (request->msg),
                                name, value);
}

void
veza_request_respond_bytes (VezaRequest *request,
                            guint        status,
                            const char  *content_type,
                            GBytes      *body)
{
  if (request->answered)
    {
      g_critical ("request %s %s answered twice", request->method, request->path);
      return;
    }
  request->answered = TRUE;
  if (request->finished)
    return;

  /* libsoup 3.2 has no phrase for 429 (RFC 6585). */
  soup_server_message_set_status (request->msg, status,
                                  status == 429 ? "Too Many Requests" : NULL);
  if (body != NULL && content_type != NULL)
    {
      /* Zero copy: the body keeps a reference to @body (which may be a
       * mapped segment file). */
      soup_message_headers_replace (soup_server_message_get_response_headers (request->msg),
                                    "Content-Type", content_type);
      soup_message_body_append_bytes (soup_server_message_get_response_body (request->msg),
                                      body);
    }
  soup_server_message_unpause (request->msg);
}

void
veza_request_respond_json (VezaRequest *request,
                           guint        status,
                           JsonNode    *data)
{
  /* The envelope takes @data over. */
  g_autoptr(GBytes) body = veza_json_envelope_success (data);

  if (status == SOUP_STATUS_NO_CONTENT)
    veza_request_respond_bytes (request, status, NULL, NULL);
  else
    veza_request_respond_bytes (request, status, "application/json", body);
}

void
veza_request_respond_error (VezaRequest *request,
                            guint        status,
                            const char  *code,
                            const char  *message)
{
  g_autoptr(GBytes) body = veza_json_envelope_error (code, message);

  veza_request_respond_bytes (request, status, "application/json", body);
}

void
veza_request_respond_db_error (VezaRequest  *request,
                               const GError *error)
{
  if (g_error_matches (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE))
    {
      veza_request_set_response_header (request, "Retry-After", "5");
      veza_request_respond_error (request, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
                                  _("The database is unavailable; try again shortly"));
    }
  else if (g_error_matches (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNIQUE))
    veza_request_respond_error (request, SOUP_STATUS_CONFLICT, "conflict",
                                _("That already exists"));
  else
    {
      g_warning ("%s %s: database error: %s", request->method, request->path, error->message);
      veza_request_respond_error (request, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
                                  _("Internal error"));
    }
}
