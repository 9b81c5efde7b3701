/* veza-http-server.c — the libsoup server, its router and the JSON envelope
 *
 * One catch-all libsoup handler dispatches to routes registered by the core
 * and by plugins. Patterns are literal segments and `{name}` placeholders;
 * a literal segment wins over a placeholder, so `/streams/me` and
 * `/streams/{id}` can coexist. Bodies over 64 KiB are refused from the
 * headers, before they are read.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-http-server.h"
#include "veza-json.h"

#include <glib/gi18n.h>
#include <string.h>

#define MAX_PATH_LENGTH 2048
#define MAX_SEGMENTS 32

typedef struct {
  char             *method;
  char            **segments;   /* pattern split on '/', without the leading empty one */
  guint             n_segments;
  VezaRouteFlags    flags;
  VezaRouteHandler  handler;
  gpointer          user_data;
  GDestroyNotify    destroy;
} Route;

struct _VezaHttpServer {
  GObject                     parent_instance;
  SoupServer                 *soup;
  GPtrArray                  *routes;
  VezaAuthenticateFunc        authenticate;
  VezaAuthenticateFinishFunc  authenticate_finish;
  gpointer                    authenticate_data;
};

G_DEFINE_FINAL_TYPE (VezaHttpServer, veza_http_server, G_TYPE_OBJECT)

static void
route_free (Route *route)
{
  if (route->destroy != NULL)
    route->destroy (route->user_data);
  g_free (route->method);
  g_strfreev (route->segments);
  g_free (route);
}

static void
respond_now (SoupServerMessage *msg,
             guint              status,
             const char        *code,
             const char        *message)
{
  g_autoptr(GBytes) body = veza_json_envelope_error (code, message);
  gsize len;
  gconstpointer data = g_bytes_get_data (body, &len);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, data, len);
}

/* Runs once the headers are in, before the body is read. */
static void
early_handler (SoupServer        *soup,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);

  if (encoding == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length (headers) > VEZA_HTTP_MAX_BODY)
    {
      respond_now (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
                   _("The request body is larger than 64 KiB"));
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Connection", "close");
    }
  else if (encoding == SOUP_ENCODING_CHUNKED || encoding == SOUP_ENCODING_EOF)
    {
      /* Bodies must announce their length so that the limit can be checked
       * before anything is read. */
      respond_now (msg, SOUP_STATUS_LENGTH_REQUIRED, "invalid_request",
                   _("A Content-Length header is required"));
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Connection", "close");
    }
}

/* Splits a raw (still percent-encoded) path into decoded segments. Returns
 * NULL for paths that cannot name a route: too long, too deep, NUL or '/'
 * hidden in an escape, "." or "..". */
static char **
split_path (const char *path,
            guint      *n_out)
{
  g_auto(GStrv) raw = NULL;
  g_autoptr(GPtrArray) out = NULL;

  if (path == NULL || path[0] != '/' || strlen (path) > MAX_PATH_LENGTH)
    return NULL;

  if (path[1] == '\0')
    {
      *n_out = 0;
      return g_new0 (char *, 1);
    }

  raw = g_strsplit (path + 1, "/", MAX_SEGMENTS + 2);
  if (g_strv_length (raw) > MAX_SEGMENTS)
    return NULL;

  out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; raw[i] != NULL; i++)
    {
      char *segment;

      /* A trailing slash ("/api/v1/live/streams/") names the same route. */
      if (raw[i][0] == '\0' && raw[i + 1] == NULL && i > 0)
        break;
      segment = g_uri_unescape_segment (raw[i], NULL, "/");
      if (segment == NULL || strcmp (segment, ".") == 0 || strcmp (segment, "..") == 0)
        {
          g_free (segment);
          return NULL;
        }
      g_ptr_array_add (out, segment);
    }

  *n_out = out->len;
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

/* Score of a match: higher is more specific; -1 when it does not match. */
static int
route_match (Route       *route,
             char       **segments,
             guint        n_segments)
{
  int score = 0;

  if (route->flags & VEZA_ROUTE_PREFIX)
    {
      if (n_segments < route->n_segments)
        return -1;
    }
  else if (n_segments != route->n_segments)
    return -1;

  for (guint i = 0; i < route->n_segments; i++)
    {
      const char *p = route->segments[i];

      if (p[0] == '{')
        {
          if (segments[i][0] == '\0')
            return -1;
          score += 1;
        }
      else if (strcmp (p, segments[i]) == 0)
        score += 2;
      else
        return -1;
    }
  /* An exact route beats a prefix route of the same depth. */
  return score * 2 + ((route->flags & VEZA_ROUTE_PREFIX) ? 0 : 1);
}

static void
fill_params (VezaRequest  *request,
             Route        *route,
             char        **segments)
{
  for (guint i = 0; i < route->n_segments; i++)
    {
      const char *p = route->segments[i];
      gsize len = strlen (p);

      if (p[0] == '{' && len > 2 && p[len - 1] == '}')
        {
          g_autofree char *name = g_strndup (p + 1, len - 2);
          veza_request_set_param (request, name, segments[i]);
        }
    }
}

typedef struct {
  VezaHttpServer *self;
  Route          *route;
  VezaRequest    *request;
} Dispatch;

static void
dispatch_free (Dispatch *d)
{
  g_object_unref (d->self);
  veza_request_unref (d->request);
  g_free (d);
}

static void
run_handler (Dispatch *d)
{
  d->route->handler (d->request, d->route->user_data);
}

static void
on_authenticated (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Dispatch *d = user_data;
  VezaHttpServer *self = d->self;
  g_autoptr(GError) error = NULL;
  g_autofree char *user_id = NULL;

  user_id = self->authenticate_finish (result, &error, self->authenticate_data);
  if (error != NULL)
    veza_request_respond_db_error (d->request, error);
  else if (user_id == NULL && (d->route->flags & VEZA_ROUTE_AUTH))
    {
      veza_request_set_response_header (d->request, "WWW-Authenticate", "Bearer");
      veza_request_respond_error (d->request, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                                  _("A valid bearer token is required"));
    }
  else
    {
      veza_request_set_user_id (d->request, user_id);
      run_handler (d);
    }

  dispatch_free (d);
}

static void
server_callback (SoupServer        *soup,
                 SoupServerMessage *msg,
                 const char        *unused_path,
                 GHashTable        *unused_query,
                 gpointer           user_data)
{
  VezaHttpServer *self = user_data;
  GUri *uri = soup_server_message_get_uri (msg);
  const char *method = soup_server_message_get_method (msg);
  const char *raw_path = g_uri_get_path (uri);
  g_auto(GStrv) segments = NULL;
  guint n_segments = 0;
  Route *best = NULL;
  int best_score = -1;
  gboolean path_known = FALSE;
  g_autoptr(GString) allow = NULL;
  Dispatch *d;

  /* The early handler may already have answered (413, 411). */
  if (soup_server_message_get_status (msg) != 0)
    return;

  segments = split_path (raw_path, &n_segments);
  if (segments == NULL)
    {
      respond_now (msg, SOUP_STATUS_NOT_FOUND, "not_found", _("No such resource"));
      return;
    }

  allow = g_string_new (NULL);
  for (guint i = 0; i < self->routes->len; i++)
    {
      Route *route = g_ptr_array_index (self->routes, i);
      int score = route_match (route, segments, n_segments);

      if (score < 0)
        continue;
      path_known = TRUE;
      if (strcmp (route->method, method) == 0 ||
          (strcmp (method, "HEAD") == 0 && strcmp (route->method, "GET") == 0))
        {
          if (score > best_score)
            {
              best = route;
              best_score = score;
            }
        }
      else if (strstr (allow->str, route->method) == NULL)
        {
          if (allow->len > 0)
            g_string_append (allow, ", ");
          g_string_append (allow, route->method);
        }
    }

  if (best == NULL)
    {
      if (path_known && strcmp (method, "OPTIONS") == 0)
        {
          soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
          soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                        "Allow", allow->str);
        }
      else if (path_known)
        {
          respond_now (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed",
                       _("That method is not allowed here"));
          soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                        "Allow", allow->str);
        }
      else
        respond_now (msg, SOUP_STATUS_NOT_FOUND, "not_found", _("No such resource"));
      return;
    }

  soup_server_message_pause (msg);

  d = g_new0 (Dispatch, 1);
  d->self = g_object_ref (self);
  d->route = best;
  d->request = veza_request_new (msg, raw_path);
  fill_params (d->request, best, segments);

  if ((best->flags & (VEZA_ROUTE_AUTH | VEZA_ROUTE_AUTH_OPTIONAL)) != 0)
    {
      const char *token = veza_request_get_bearer_token (d->request);

      if (token != NULL && self->authenticate != NULL)
        {
          self->authenticate (token, NULL, on_authenticated, d, self->authenticate_data);
          return;
        }
      if (best->flags & VEZA_ROUTE_AUTH)
        {
          veza_request_set_response_header (d->request, "WWW-Authenticate", "Bearer");
          veza_request_respond_error (d->request, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                                      _("A valid bearer token is required"));
          dispatch_free (d);
          return;
        }
    }

  run_handler (d);
  dispatch_free (d);
}

static void
veza_http_server_dispose (GObject *object)
{
  VezaHttpServer *self = VEZA_HTTP_SERVER (object);

  if (self->soup != NULL)
    soup_server_disconnect (self->soup);
  g_clear_object (&self->soup);
  g_clear_pointer (&self->routes, g_ptr_array_unref);

  G_OBJECT_CLASS (veza_http_server_parent_class)->dispose (object);
}

static void
veza_http_server_class_init (VezaHttpServerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = veza_http_server_dispose;
}

static void
veza_http_server_init (VezaHttpServer *self)
{
  self->routes = g_ptr_array_new_with_free_func ((GDestroyNotify) route_free);
  self->soup = soup_server_new ("server-header", "vezad/" VEZA_VERSION " ", NULL);
  soup_server_add_early_handler (self->soup, NULL, early_handler, self, NULL);
  soup_server_add_handler (self->soup, NULL, server_callback, self, NULL);
}

VezaHttpServer *
veza_http_server_new (void)
{
  return g_object_new (VEZA_TYPE_HTTP_SERVER, NULL);
}

SoupServer *
veza_http_server_get_soup_server (VezaHttpServer *self)
{
  return self->soup;
}

gboolean
veza_http_server_listen (VezaHttpServer  *self,
                         const char      *address,
                         guint16          port,
                         guint16         *out_port,
                         GError         **error)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);
  g_autoptr(GSocketAddress) sockaddr = NULL;
  g_autoptr(GSList) uris = NULL;

  if (inet == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Invalid HTTP address “%s”"), address);
      return FALSE;
    }
  sockaddr = g_inet_socket_address_new (inet, port);
  if (!soup_server_listen (self->soup, sockaddr, 0, error))
    return FALSE;

  uris = soup_server_get_uris (self->soup);
  if (out_port != NULL && uris != NULL)
    *out_port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
  return TRUE;
}

void
veza_http_server_disconnect (VezaHttpServer *self)
{
  soup_server_disconnect (self->soup);
}

void
veza_http_server_add_route (VezaHttpServer   *self,
                            const char       *method,
                            const char       *pattern,
                            VezaRouteFlags    flags,
                            VezaRouteHandler  handler,
                            gpointer          user_data,
                            GDestroyNotify    destroy)
{
  Route *route;

  g_return_if_fail (VEZA_IS_HTTP_SERVER (self));
  g_return_if_fail (method != NULL && pattern != NULL && pattern[0] == '/');

  route = g_new0 (Route, 1);
  route->method = g_ascii_strup (method, -1);
  route->segments = g_strsplit (pattern + 1, "/", -1);
  route->n_segments = g_strv_length (route->segments);
  /* "/" is the root page: zero segments. */
  if (route->n_segments == 1 && route->segments[0][0] == '\0')
    route->n_segments = 0;
  route->flags = flags;
  route->handler = handler;
  route->user_data = user_data;
  route->destroy = destroy;
  g_ptr_array_add (self->routes, route);
}

void
veza_http_server_remove_routes_by_data (VezaHttpServer *self,
                                        gpointer        user_data)
{
  for (guint i = self->routes->len; i > 0; i--)
    {
      Route *route = g_ptr_array_index (self->routes, i - 1);

      if (route->user_data == user_data)
        g_ptr_array_remove_index (self->routes, i - 1);
    }
}

void
veza_http_server_set_authenticator (VezaHttpServer             *self,
                                    VezaAuthenticateFunc        func,
                                    VezaAuthenticateFinishFunc  finish,
                                    gpointer                    user_data)
{
  self->authenticate = func;
  self->authenticate_finish = finish;
  self->authenticate_data = user_data;
}
