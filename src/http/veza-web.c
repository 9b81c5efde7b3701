/* veza-web.c — the web pages (/, /live/{id}, /live/go-live) and /static/
 *
 * Pages and static files come from the configured web directory
 * ([server] web-dir). Like the HLS handler, only names from a whitelist are
 * served (lower-case letters, digits, '.', '_', '-' with a known extension),
 * so no request reaches any other file whatever its encoding. Pages are never
 * cached and carry a Content-Security-Policy that allows only this origin,
 * the media origin (public-url) and blob: workers and media, which hls.js
 * needs. Static files are cached for a short while and revalidated through
 * an ETag.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-web.h"
#include "veza-json.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#define MAX_FILE_NAME 64
#define STATIC_CACHE_CONTROL "public, max-age=300"

typedef struct {
  char *root;           /* the web directory */
  char *csp;            /* Content-Security-Policy of the pages */
} VezaWeb;

static const struct {
  const char *extension;
  const char *content_type;
} content_types[] = {
  { ".html", "text/html; charset=utf-8" },
  { ".css", "text/css; charset=utf-8" },
  { ".js", "text/javascript; charset=utf-8" },
  { ".svg", "image/svg+xml" },
  { ".png", "image/png" },
  { ".ico", "image/x-icon" },
  { ".txt", "text/plain; charset=utf-8" },
};

static void
veza_web_free (gpointer data)
{
  VezaWeb *web = data;

  g_free (web->root);
  g_free (web->csp);
  g_free (web);
}

static const char *
content_type_for (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (content_types); i++)
    if (g_str_has_suffix (name, content_types[i].extension))
      return content_types[i].content_type;
  return NULL;
}

gboolean
veza_web_file_name_valid (const char *name)
{
  gsize len;

  if (name == NULL)
    return FALSE;
  len = strlen (name);
  if (len < 2 || len > MAX_FILE_NAME || name[0] == '.' || strstr (name, "..") != NULL)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = name[i];

      if (!(g_ascii_islower (c) || g_ascii_isdigit (c) || c == '.' || c == '_' || c == '-'))
        return FALSE;
    }
  /* Pages are served by their routes only. */
  if (g_str_has_suffix (name, ".html"))
    return FALSE;
  return content_type_for (name) != NULL;
}

/* The scheme://host[:port] of @url, or NULL */
static char *
origin_of (const char *url)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme, *host;
  int port;

  if (url == NULL || *url == '\0')
    return NULL;
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    return NULL;
  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  if (scheme == NULL || host == NULL || *host == '\0')
    return NULL;
  port = g_uri_get_port (uri);
  if (strchr (host, ':') != NULL)
    return port > 0 ? g_strdup_printf ("%s://[%s]:%d", scheme, host, port)
                    : g_strdup_printf ("%s://[%s]", scheme, host);
  return port > 0 ? g_strdup_printf ("%s://%s:%d", scheme, host, port)
                  : g_strdup_printf ("%s://%s", scheme, host);
}

static char *
build_csp (const char *public_url)
{
  g_autofree char *media = origin_of (public_url);
  const char *extra = media != NULL ? media : "";
  const char *space = media != NULL ? " " : "";

  /* Thumbnails are user-given URLs on any host, hence img-src http(s):. */
  return g_strdup_printf ("default-src 'self'; "
                          "script-src 'self'; "
                          "style-src 'self'; "
                          "img-src 'self' data: blob: https: http:; "
                          "media-src 'self' blob:%s%s; "
                          "connect-src 'self'%s%s; "
                          "worker-src 'self' blob:; "
                          "object-src 'none'; "
                          "base-uri 'none'; "
                          "form-action 'self'; "
                          "frame-ancestors 'none'",
                          space, extra, space, extra);
}

static void
not_found (VezaRequest *request)
{
  g_autoptr(GBytes) body = g_bytes_new_static ("Not found\n", strlen ("Not found\n"));

  veza_request_set_response_header (request, "Cache-Control", "no-cache");
  veza_request_set_response_header (request, "X-Content-Type-Options", "nosniff");
  veza_request_respond_bytes (request, SOUP_STATUS_NOT_FOUND, "text/plain; charset=utf-8",
                              body);
}

/* A weak validator from the size and modification time */
static char *
etag_for (const char *path)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode))
    return NULL;
  return g_strdup_printf ("W/\"%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT "\"",
                          (gint64) st.st_size, (gint64) st.st_mtime);
}

static void
serve_file (VezaRequest *request,
            VezaWeb     *web,
            const char  *subdir,
            const char  *name,
            gboolean     page)
{
  g_autofree char *path = g_build_filename (web->root, subdir != NULL ? subdir : name,
                                            subdir != NULL ? name : NULL, NULL);
  g_autofree char *etag = etag_for (path);
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) bytes = NULL;
  const char *if_none_match;

  if (etag == NULL)
    {
      not_found (request);
      return;
    }

  veza_request_set_response_header (request, "X-Content-Type-Options", "nosniff");
  if (page)
    {
      veza_request_set_response_header (request, "Cache-Control", "no-cache");
      veza_request_set_response_header (request, "Content-Security-Policy", web->csp);
      veza_request_set_response_header (request, "Referrer-Policy", "same-origin");
      veza_request_set_response_header (request, "X-Frame-Options", "DENY");
    }
  else
    veza_request_set_response_header (request, "Cache-Control", STATIC_CACHE_CONTROL);
  veza_request_set_response_header (request, "ETag", etag);

  if_none_match = veza_request_get_header (request, "If-None-Match");
  if (if_none_match != NULL && strstr (if_none_match, etag) != NULL)
    {
      veza_request_respond_bytes (request, SOUP_STATUS_NOT_MODIFIED, NULL, NULL);
      return;
    }

  mapped = g_mapped_file_new (path, FALSE, NULL);
  if (mapped == NULL)
    {
      not_found (request);
      return;
    }
  bytes = g_mapped_file_get_bytes (mapped);
  veza_request_respond_bytes (request, SOUP_STATUS_OK, content_type_for (name), bytes);
}

static void
handle_home (VezaRequest *request,
             gpointer     user_data)
{
  serve_file (request, user_data, NULL, "index.html", TRUE);
}

static void
handle_go_live (VezaRequest *request,
                gpointer     user_data)
{
  serve_file (request, user_data, NULL, "go-live.html", TRUE);
}

static void
handle_live (VezaRequest *request,
             gpointer     user_data)
{
  /* The page reads the id from its own path. */
  if (!veza_json_is_uuid (veza_request_get_param (request, "id")))
    {
      not_found (request);
      return;
    }
  serve_file (request, user_data, NULL, "live.html", TRUE);
}

static void
handle_static (VezaRequest *request,
               gpointer     user_data)
{
  const char *file = veza_request_get_param (request, "file");

  if (!veza_web_file_name_valid (file))
    {
      not_found (request);
      return;
    }
  serve_file (request, user_data, "static", file, FALSE);
}

static void
handle_vendor (VezaRequest *request,
               gpointer     user_data)
{
  const char *file = veza_request_get_param (request, "file");

  if (!veza_web_file_name_valid (file))
    {
      not_found (request);
      return;
    }
  serve_file (request, user_data, "vendor", file, FALSE);
}

void
veza_web_register (VezaServer *server)
{
  VezaHttpServer *http = veza_server_get_http (server);
  VezaConfig *config = veza_server_get_config (server);
  VezaWeb *web;

  if (config->web_dir == NULL || *config->web_dir == '\0')
    return;

  web = g_new0 (VezaWeb, 1);
  web->root = g_strdup (config->web_dir);
  web->csp = build_csp (veza_server_get_public_url (server));
  if (!g_file_test (web->root, G_FILE_TEST_IS_DIR))
    g_warning (_("web directory %s not found: the pages will answer 404"), web->root);

  /* The last route owns @web. */
  veza_http_server_add_route (http, "GET", "/", VEZA_ROUTE_RAW, handle_home, web, NULL);
  veza_http_server_add_route (http, "GET", "/live/go-live", VEZA_ROUTE_RAW,
                              handle_go_live, web, NULL);
  veza_http_server_add_route (http, "GET", "/live/{id}", VEZA_ROUTE_RAW, handle_live, web, NULL);
  veza_http_server_add_route (http, "GET", "/static/vendor/{file}", VEZA_ROUTE_RAW,
                              handle_vendor, web, NULL);
  veza_http_server_add_route (http, "GET", "/static/{file}", VEZA_ROUTE_RAW,
                              handle_static, web, veza_web_free);
}
