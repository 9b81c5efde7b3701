/* veza-hls-handler.c — /hls/{id}/{file}
 *
 * Only names that a stream folder can hold are served (a whitelist, not a
 * path check), from <data-dir>/media/<uuid>/, so no request reaches any other
 * file whatever its encoding. Playlists are never cached; segments never
 * change once written, so they are cacheable forever. CORS is open, since
 * players embed streams from anywhere. Fetches of live.m3u8 count the player
 * as a viewer (API.md §5).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-hls-handler.h"
#include "veza-broadcasts.h"
#include "veza-json.h"

#include <glib/gi18n.h>
#include <string.h>

#define SEGMENT_PREFIX "segment-"
#define MAX_VIEWER_ID 64

gboolean
veza_hls_file_name_valid (const char *name)
{
  gsize len, digits;

  if (name == NULL)
    return FALSE;
  if (g_str_equal (name, "live.m3u8") || g_str_equal (name, "vod.m3u8"))
    return TRUE;
  if (!g_str_has_prefix (name, SEGMENT_PREFIX) || !g_str_has_suffix (name, ".ts"))
    return FALSE;
  len = strlen (name);
  digits = len - strlen (SEGMENT_PREFIX) - strlen (".ts");
  if (digits < 1 || digits > 10)
    return FALSE;
  for (gsize i = strlen (SEGMENT_PREFIX); i < len - 3; i++)
    if (!g_ascii_isdigit (name[i]))
      return FALSE;
  return TRUE;
}

static void
add_cors (VezaRequest *request)
{
  veza_request_set_response_header (request, "Access-Control-Allow-Origin", "*");
  veza_request_set_response_header (request, "Access-Control-Expose-Headers",
                                    "Content-Length, Content-Range, Accept-Ranges");
}

static void
not_found (VezaRequest *request)
{
  add_cors (request);
  veza_request_set_response_header (request, "Cache-Control", "no-cache");
  veza_request_respond_error (request, SOUP_STATUS_NOT_FOUND, "not_found",
                              _("No such file"));
}

/* A stable id for a player that fetches playlists: the page passes
 * ?viewer=<id> (the same id it uses on /ws, so one person counts once);
 * other players (VLC, TVs) are told apart by address and user agent. */
static char *
viewer_id_for (VezaRequest *request)
{
  const char *given = veza_request_get_query (request, "viewer");
  const char *agent;
  g_autofree char *material = NULL;

  if (given != NULL)
    {
      gsize len = strlen (given);
      gboolean ok = len >= 8 && len <= MAX_VIEWER_ID;

      for (gsize i = 0; ok && i < len; i++)
        ok = g_ascii_isalnum (given[i]) || given[i] == '-' || given[i] == '_';
      if (ok)
        return g_strdup (given);
    }

  agent = veza_request_get_header (request, "User-Agent");
  material = g_strconcat (veza_request_get_remote_address (request), "\n",
                          agent != NULL ? agent : "", NULL);
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, material, -1);
}

static void
handle_hls (VezaRequest *request,
            gpointer     user_data)
{
  VezaServer *server = user_data;
  const char *id = veza_request_get_param (request, "id");
  const char *file = veza_request_get_param (request, "file");
  gboolean playlist;
  g_autofree char *path = NULL;
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) bytes = NULL;
  SoupServerMessage *msg = veza_request_get_message (request);
  SoupMessageHeaders *req_headers = soup_server_message_get_request_headers (msg);
  SoupRange *ranges = NULL;
  int n_ranges = 0;
  gsize size;

  if (!veza_json_is_uuid (id) || !veza_hls_file_name_valid (file))
    {
      not_found (request);
      return;
    }

  path = g_build_filename (veza_server_get_media_dir (server), id, file, NULL);
  playlist = g_str_has_suffix (file, ".m3u8");
  if (playlist)
    {
      /* copied, not mapped: a live playlist is rewritten in place (on this
       * context, so never while it is read here) */
      char *contents = NULL;
      gsize length = 0;

      if (!g_file_get_contents (path, &contents, &length, NULL))
        {
          not_found (request);
          return;
        }
      bytes = g_bytes_new_take (contents, length);
    }
  else
    {
      /* segments never change once listed */
      mapped = g_mapped_file_new (path, FALSE, NULL);
      if (mapped == NULL)
        {
          not_found (request);
          return;
        }
      bytes = g_mapped_file_get_bytes (mapped);
    }
  size = g_bytes_get_size (bytes);

  add_cors (request);
  veza_request_set_response_header (request, "Accept-Ranges", "bytes");
  veza_request_set_response_header (request, "Cache-Control",
                                    playlist ? "no-cache"
                                             : "public, max-age=31536000, immutable");

  if (playlist && g_str_equal (file, "live.m3u8"))
    {
      g_autofree char *viewer = viewer_id_for (request);
      veza_broadcasts_viewer_seen (veza_server_get_broadcasts (server), id, viewer);
    }

  if (soup_message_headers_get_one (req_headers, "Range") != NULL)
    {
      if (!soup_message_headers_get_ranges (req_headers, size, &ranges, &n_ranges))
        {
          g_autofree char *unsatisfied = g_strdup_printf ("bytes */%" G_GSIZE_FORMAT, size);

          veza_request_set_response_header (request, "Content-Range", unsatisfied);
          veza_request_respond_error (request, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE,
                                      "invalid_request", _("Range not satisfiable"));
          return;
        }
      /* libsoup leaves the ends as the client wrote them: a start past the
       * end of the file cannot be served, an end past it is clamped. */
      if (n_ranges >= 1 && (ranges[0].start < 0 || (gsize) ranges[0].start >= size))
        {
          g_autofree char *unsatisfied = g_strdup_printf ("bytes */%" G_GSIZE_FORMAT, size);

          soup_message_headers_free_ranges (req_headers, ranges);
          veza_request_set_response_header (request, "Content-Range", unsatisfied);
          veza_request_respond_error (request, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE,
                                      "invalid_request", _("Range not satisfiable"));
          return;
        }
      if (n_ranges == 1)
        {
          goffset start = ranges[0].start;
          goffset end = MIN (ranges[0].end, (goffset) size - 1);
          g_autoptr(GBytes) part = g_bytes_new_from_bytes (bytes, start, end - start + 1);
          g_autofree char *content_range =
            g_strdup_printf ("bytes %" G_GOFFSET_FORMAT "-%" G_GOFFSET_FORMAT "/%" G_GSIZE_FORMAT,
                             start, end, size);

          soup_message_headers_free_ranges (req_headers, ranges);
          veza_request_set_response_header (request, "Content-Range", content_range);
          veza_request_respond_bytes (request, SOUP_STATUS_PARTIAL_CONTENT,
                                      playlist ? "application/vnd.apple.mpegurl" : "video/mp2t",
                                      part);
          return;
        }
      /* Several ranges at once: players never ask for that; the whole file
       * is a valid answer (RFC 9110 §14.2). */
      soup_message_headers_free_ranges (req_headers, ranges);
    }

  veza_request_respond_bytes (request, SOUP_STATUS_OK,
                              playlist ? "application/vnd.apple.mpegurl" : "video/mp2t",
                              bytes);
}

static void
handle_options (VezaRequest *request,
                gpointer     user_data)
{
  add_cors (request);
  veza_request_set_response_header (request, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
  veza_request_set_response_header (request, "Access-Control-Allow-Headers",
                                    "Range, Origin, Accept");
  veza_request_set_response_header (request, "Access-Control-Max-Age", "86400");
  veza_request_respond_bytes (request, SOUP_STATUS_NO_CONTENT, NULL, NULL);
}

void
veza_hls_handler_register (VezaServer *server)
{
  VezaHttpServer *http = veza_server_get_http (server);

  veza_http_server_add_route (http, "GET", "/hls/{id}/{file}", VEZA_ROUTE_RAW,
                              handle_hls, server, NULL);
  veza_http_server_add_route (http, "OPTIONS", "/hls/{id}/{file}", VEZA_ROUTE_RAW,
                              handle_options, server, NULL);
}
