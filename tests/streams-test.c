/* streams-test.c — /api/v1/live/streams: create, read, list, update,
 * delete, stop, keys and viewers
 *
 * One in-process server (embedded PostgreSQL) for the whole suite, with an
 * internal token so that streams can be made live through
 * /internal/stream-events (an external ingest) without a real publisher.
 * Each test works with its own users and filters lists by user_id, so the
 * tests do not see each other's streams.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "test-utils.h"

#include <string.h>

#define INTERNAL_TOKEN "streams-test-internal-secret-0123456789"
#define STREAMS "/api/v1/live/streams"

static TestServer *ts;

static const char *public_fields[] = {
  "id", "user_id", "streamer_name", "title", "description", "category", "tags",
  "thumbnail_url", "is_live", "is_vod", "viewer_count", "scheduled_at", "started_at",
  "ended_at", "stream_url", "created_at", "updated_at",
};

/* ---- helpers ------------------------------------------------------------ */

static void
configure (VezaConfig *config)
{
  g_free (config->internal_token);
  config->internal_token = g_strdup (INTERNAL_TOKEN);
}

static char *
new_user (const char  *prefix,
          char       **user_id)
{
  return test_register_user (ts, prefix, user_id);
}

static TestResponse *
get (const char *path,
     const char *token)
{
  return test_request (ts, "GET", path, token, NULL, NULL);
}

static TestResponse *
create (const char *token,
        const char *body)
{
  return test_request (ts, "POST", STREAMS, token, body, NULL);
}

static TestResponse *
put (const char *id,
     const char *token,
     const char *body)
{
  g_autofree char *path = g_strconcat (STREAMS "/", id, NULL);

  return test_request (ts, "PUT", path, token, body, NULL);
}

static TestResponse *
get_stream (const char *id)
{
  g_autofree char *path = g_strconcat (STREAMS "/", id, NULL);

  return get (path, NULL);
}

static TestResponse *
stream_action (const char *method,
               const char *id,
               const char *suffix,
               const char *token)
{
  g_autofree char *path = g_strconcat (STREAMS "/", id, suffix, NULL);

  return test_request (ts, method, path, token, NULL, NULL);
}

static TestResponse *
list (const char *query)
{
  g_autofree char *path = g_strconcat (STREAMS, query != NULL ? "?" : "", query, NULL);
  TestResponse *r = get (path, NULL);

  if (r->status != 200)
    g_printerr ("unexpected answer %u to %s: %s\n", r->status, path, r->body);
  g_assert_cmpuint (r->status, ==, 200);
  return r;
}

static JsonArray *
list_items (TestResponse *r)
{
  JsonNode *node = test_json_node (r, "data.streams");

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (node));
  return json_node_get_array (node);
}

static const char *
item_id (JsonArray *a,
         guint      i)
{
  return json_object_get_string_member (json_array_get_object_element (a, i), "id");
}

static gint64
user_total (const char *user_id)
{
  g_autofree char *q = g_strconcat ("user_id=", user_id, NULL);
  g_autoptr(TestResponse) r = list (q);

  return test_json_int (r, "data.total");
}

static gint64
count_rows (void)
{
  g_autofree char *n = test_db_value (ts, "SELECT count (*) AS value FROM live_streams", 0, NULL);

  return g_ascii_strtoll (n, NULL, 10);
}

/* An RFC 3339 UTC time @seconds from now, whole seconds */
static char *
time_from_now (gint64 seconds)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) t = g_date_time_add_seconds (now, (gdouble) seconds);

  return g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ");
}

static void
assert_event_ok (const char *event,
                 const char *id)
{
  g_autoptr(TestResponse) r = test_stream_event (ts, INTERNAL_TOKEN, event, id);

  if (r->status != 200)
    g_printerr ("unexpected answer %u to %s: %s\n", r->status, event, r->body);
  g_assert_cmpuint (r->status, ==, 200);
}

/* Live, then ended with a recording: a VOD */
static void
make_vod (const char *id)
{
  g_autoptr(TestResponse) r = NULL;

  assert_event_ok ("stream_started", id);
  test_fake_recording (ts, id);
  assert_event_ok ("stream_ended", id);
  r = get_stream (id);
  g_assert_true (test_json_bool (r, "data.stream.is_vod"));
}

static void
assert_no_secrets (JsonObject *o)
{
  g_assert_false (json_object_has_member (o, "stream_key"));
  g_assert_false (json_object_has_member (o, "rtmp_url"));
  g_assert_false (json_object_has_member (o, "source_url"));
}

static void
assert_public_form (JsonObject *o)
{
  for (guint i = 0; i < G_N_ELEMENTS (public_fields); i++)
    {
      if (!json_object_has_member (o, public_fields[i]))
        g_error ("field %s is missing", public_fields[i]);
    }
  assert_no_secrets (o);
  g_assert_cmpuint (json_object_get_size (o), ==, G_N_ELEMENTS (public_fields));
}

static void
assert_owner_form (JsonObject *o)
{
  for (guint i = 0; i < G_N_ELEMENTS (public_fields); i++)
    {
      if (!json_object_has_member (o, public_fields[i]))
        g_error ("field %s is missing", public_fields[i]);
    }
  g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "stream_key"), "live_"));
  g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "rtmp_url"), "rtmp://"));
}

static void
assert_all_items_public (TestResponse *r)
{
  JsonArray *a = list_items (r);

  for (guint i = 0; i < json_array_get_length (a); i++)
    assert_public_form (json_array_get_object_element (a, i));
  /* Belt and braces: no key anywhere in the text. */
  g_assert_null (strstr (r->body, "stream_key"));
  g_assert_null (strstr (r->body, "\"live_"));
}

static gboolean
is_utc_time (const char *text)
{
  g_autoptr(GDateTime) t = NULL;

  if (text == NULL || !g_str_has_suffix (text, "Z") || strlen (text) < 20 || text[10] != 'T')
    return FALSE;
  t = g_date_time_new_from_iso8601 (text, NULL);
  return t != NULL;
}

static GDateTime *
parse_time (TestResponse *r,
            const char   *path)
{
  const char *text = test_json_string (r, path);

  g_assert_true (is_utc_time (text));
  return g_date_time_new_from_iso8601 (text, NULL);
}

/* ---- create ------------------------------------------------------------- */

static void
test_create_owner_form (void)
{
  g_autofree char *user_id = NULL;
  g_autofree char *token = new_user ("creator", &user_id);
  g_autofree char *when = time_from_now (2 * 24 * 3600);
  g_autofree char *body = g_strdup_printf (
    "{\"title\": \"Speedrun night ✨\", \"description\": \"Any%% glitchless\","
    " \"category\": \"Gaming\", \"tags\": [\"speedrun\", \"retro\"],"
    " \"thumbnail_url\": \"https://img.example.org/t.png\", \"scheduled_at\": \"%s\","
    " \"unknown_field\": [1, 2, 3]}", when);
  g_autoptr(TestResponse) r = create (token, body);
  JsonObject *o;
  JsonArray *tags;
  g_autofree char *rtmp_prefix = NULL;

  g_assert_cmpuint (r->status, ==, 201);
  g_assert_true (test_json_bool (r, "success"));
  o = json_node_get_object (test_json_node (r, "data"));
  assert_owner_form (o);
  g_assert_false (json_object_has_member (o, "unknown_field"));

  g_assert_true (g_uuid_string_is_valid (test_json_string (r, "data.id")));
  g_assert_cmpstr (test_json_string (r, "data.user_id"), ==, user_id);
  g_assert_nonnull (test_json_string (r, "data.streamer_name"));
  g_assert_cmpstr (test_json_string (r, "data.title"), ==, "Speedrun night ✨");
  g_assert_cmpstr (test_json_string (r, "data.description"), ==, "Any% glitchless");
  g_assert_cmpstr (test_json_string (r, "data.category"), ==, "Gaming");
  tags = json_node_get_array (test_json_node (r, "data.tags"));
  g_assert_cmpuint (json_array_get_length (tags), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (tags, 0), ==, "speedrun");
  g_assert_cmpstr (json_array_get_string_element (tags, 1), ==, "retro");
  g_assert_cmpstr (test_json_string (r, "data.thumbnail_url"), ==, "https://img.example.org/t.png");
  g_assert_false (test_json_bool (r, "data.is_live"));
  g_assert_false (test_json_bool (r, "data.is_vod"));
  g_assert_cmpint (test_json_int (r, "data.viewer_count"), ==, 0);
  g_assert_cmpstr (test_json_string (r, "data.scheduled_at"), ==, when);
  g_assert_true (JSON_NODE_HOLDS_NULL (test_json_node (r, "data.started_at")));
  g_assert_true (JSON_NODE_HOLDS_NULL (test_json_node (r, "data.ended_at")));
  g_assert_true (JSON_NODE_HOLDS_NULL (test_json_node (r, "data.stream_url")));
  g_assert_true (is_utc_time (test_json_string (r, "data.created_at")));
  g_assert_true (is_utc_time (test_json_string (r, "data.updated_at")));

  /* The key: "live_" and enough randomness; the RTMP base of this server */
  g_assert_cmpuint (strlen (test_json_string (r, "data.stream_key")), >=, 5 + 32);
  rtmp_prefix = g_strdup_printf ("rtmp://127.0.0.1:%u/", ts->rtmp_port);
  g_assert_true (g_str_has_prefix (test_json_string (r, "data.rtmp_url"), rtmp_prefix));
  /* The key is not part of the RTMP base */
  g_assert_null (strstr (test_json_string (r, "data.rtmp_url"), "live_"));
}

static void
test_create_defaults (void)
{
  g_autofree char *token = new_user ("defaults", NULL);
  g_autoptr(TestResponse) r = create (token, "{\"title\": \"Just a title\"}");
  g_autoptr(TestResponse) r2 = create (token, "{\"title\": \"Second\"}");

  g_assert_cmpuint (r->status, ==, 201);
  assert_owner_form (json_node_get_object (test_json_node (r, "data")));
  g_assert_cmpstr (test_json_string (r, "data.description"), ==, "");
  g_assert_cmpstr (test_json_string (r, "data.category"), ==, "");
  g_assert_cmpuint (json_array_get_length (json_node_get_array (test_json_node (r, "data.tags"))),
                    ==, 0);
  g_assert_true (JSON_NODE_HOLDS_NULL (test_json_node (r, "data.thumbnail_url")));
  g_assert_true (JSON_NODE_HOLDS_NULL (test_json_node (r, "data.scheduled_at")));

  /* Every stream gets a key of its own. */
  g_assert_cmpuint (r2->status, ==, 201);
  g_assert_cmpstr (test_json_string (r, "data.stream_key"), !=,
                   test_json_string (r2, "data.stream_key"));
  g_assert_cmpstr (test_json_string (r, "data.id"), !=, test_json_string (r2, "data.id"));
}

static void
test_create_scheduled_offset (void)
{
  g_autofree char *token = new_user ("offset", NULL);
  g_autoptr(GTimeZone) tz = g_time_zone_new_offset (2 * 3600);
  g_autoptr(GDateTime) now = g_date_time_new_now (tz);
  g_autoptr(GDateTime) later = g_date_time_add_days (now, 3);
  g_autoptr(GDateTime) whole = g_date_time_new (tz, g_date_time_get_year (later),
                                                g_date_time_get_month (later),
                                                g_date_time_get_day_of_month (later),
                                                g_date_time_get_hour (later),
                                                g_date_time_get_minute (later), 7.0);
  g_autoptr(GDateTime) utc = g_date_time_to_utc (whole);
  g_autofree char *local = g_date_time_format (whole, "%Y-%m-%dT%H:%M:%S+02:00");
  g_autofree char *expected = g_date_time_format (utc, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree char *body = g_strdup_printf ("{\"title\": \"Offset\", \"scheduled_at\": \"%s\"}",
                                           local);
  g_autoptr(TestResponse) r = create (token, body);

  g_assert_cmpuint (r->status, ==, 201);
  /* Given with an offset, answered in UTC with a Z */
  g_assert_cmpstr (test_json_string (r, "data.scheduled_at"), ==, expected);
}

static void
test_create_invalid (void)
{
  g_autofree char *user_id = NULL;
  g_autofree char *token = new_user ("invalid", &user_id);
  g_autofree char *t201 = g_strnfill (201, 't');
  g_autofree char *d5001 = g_strnfill (5001, 'd');
  g_autofree char *c65 = g_strnfill (65, 'c');
  g_autofree char *tag33 = g_strnfill (33, 'g');
  g_autofree char *past = time_from_now (-60);
  g_autofree char *s_title = g_strdup_printf ("{\"title\": \"%s\"}", t201);
  g_autofree char *s_desc = g_strdup_printf ("{\"title\": \"ok\", \"description\": \"%s\"}", d5001);
  g_autofree char *s_cat = g_strdup_printf ("{\"title\": \"ok\", \"category\": \"%s\"}", c65);
  g_autofree char *s_tag = g_strdup_printf ("{\"title\": \"ok\", \"tags\": [\"a\", \"%s\"]}", tag33);
  g_autofree char *s_past = g_strdup_printf ("{\"title\": \"ok\", \"scheduled_at\": \"%s\"}", past);
  const char *bodies[] = {
    "{}",
    "{\"description\": \"no title\"}",
    "{\"title\": \"\"}",
    "{\"title\": \"   \"}",
    "{\"title\": \"\\t\\n \"}",
    "{\"title\": null}",
    "{\"title\": 5}",
    "{\"title\": [\"a\"]}",
    s_title,
    s_desc,
    "{\"title\": \"ok\", \"description\": 5}",
    s_cat,
    "{\"title\": \"ok\", \"tags\": [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\"]}",
    s_tag,
    "{\"title\": \"ok\", \"tags\": [1]}",
    "{\"title\": \"ok\", \"tags\": [\"a\", null]}",
    "{\"title\": \"ok\", \"tags\": [\"\"]}",
    "{\"title\": \"ok\", \"tags\": \"a,b\"}",
    "{\"title\": \"ok\", \"tags\": {\"a\": \"b\"}}",
    "{\"title\": \"ok\", \"thumbnail_url\": \"ftp://example.org/t.png\"}",
    "{\"title\": \"ok\", \"thumbnail_url\": \"javascript:alert(1)\"}",
    "{\"title\": \"ok\", \"thumbnail_url\": \"not a url\"}",
    "{\"title\": \"ok\", \"thumbnail_url\": \"http://\"}",
    "{\"title\": \"ok\", \"thumbnail_url\": \"/relative/t.png\"}",
    "{\"title\": \"ok\", \"thumbnail_url\": 5}",
    "{\"title\": \"ok\", \"scheduled_at\": \"tomorrow\"}",
    "{\"title\": \"ok\", \"scheduled_at\": \"2099-01-01\"}",
    "{\"title\": \"ok\", \"scheduled_at\": \"2099-01-01T10:00:00\"}",
    "{\"title\": \"ok\", \"scheduled_at\": \"2099-13-01T10:00:00Z\"}",
    "{\"title\": \"ok\", \"scheduled_at\": \"2099-01-01 10:00:00Z\"}",
    "{\"title\": \"ok\", \"scheduled_at\": \"\"}",
    "{\"title\": \"ok\", \"scheduled_at\": 4102444800}",
    "{\"title\": \"ok\", \"scheduled_at\": \"2020-01-01T00:00:00Z\"}",
    s_past,
    "{\"title\": \"ok\"",
    "[{\"title\": \"ok\"}]",
    "\"ok\"",
    "",
  };
  gint64 rows = count_rows ();

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr(TestResponse) r = NULL;

      g_test_message ("body %.80s", bodies[i]);
      r = test_request (ts, "POST", STREAMS, token, bodies[i], NULL);
      test_assert_error (r, 400, "invalid_request");
    }
  g_assert_cmpint (user_total (user_id), ==, 0);
  g_assert_cmpint (count_rows (), ==, rows);

  /* The limits themselves are fine (in characters, not bytes). */
  {
    g_autofree char *title = g_strnfill (200, 't');
    g_autofree char *desc = g_strnfill (5000, 'd');
    g_autofree char *cat = g_strnfill (64, 'c');
    g_autofree char *tag = g_strnfill (32, 'g');
    g_autoptr(GString) body = g_string_new (NULL);
    g_autoptr(TestResponse) r = NULL;

    g_string_append_printf (body, "{\"title\": \"%s\", \"description\": \"%s\","
                            " \"category\": \"%s\", \"tags\": [", title, desc, cat);
    for (guint i = 0; i < 10; i++)
      g_string_append_printf (body, "%s\"%s\"", i > 0 ? "," : "", tag);
    g_string_append (body, "], \"thumbnail_url\": \"http://example.org/a.png\"}");
    r = create (token, body->str);
    g_assert_cmpuint (r->status, ==, 201);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (test_json_node (r, "data.tags"))),
                      ==, 10);
  }
  {
    g_autoptr(GString) title = g_string_new (NULL);
    g_autofree char *body = NULL;
    g_autoptr(TestResponse) r = NULL;

    for (guint i = 0; i < 200; i++)
      g_string_append (title, "é");
    body = g_strdup_printf ("{\"title\": \"%s\"}", title->str);
    r = create (token, body);
    g_assert_cmpuint (r->status, ==, 201);
    g_assert_cmpstr (test_json_string (r, "data.title"), ==, title->str);
  }
  g_assert_cmpint (user_total (user_id), ==, 2);
}

static void
test_create_unauthenticated (void)
{
  gint64 rows = count_rows ();
  g_autofree char *bogus = g_strnfill (43, 'Q');

  {
    g_autoptr(TestResponse) r = create (NULL, "{\"title\": \"nobody\"}");
    test_assert_error (r, 401, "unauthorized");
  }
  {
    g_autoptr(TestResponse) r = create (bogus, "{\"title\": \"nobody\"}");
    test_assert_error (r, 401, "unauthorized");
  }
  /* Authentication comes before validation. */
  {
    g_autoptr(TestResponse) r = create (NULL, "not json");
    test_assert_error (r, 401, "unauthorized");
  }
  g_assert_cmpint (count_rows (), ==, rows);
}

/* ---- read --------------------------------------------------------------- */

static void
test_get_public_form (void)
{
  g_autofree char *user_id = NULL;
  g_autofree char *token = new_user ("reader", &user_id);
  g_autoptr(TestResponse) c = create (token, "{\"title\": \"Public\", \"tags\": [\"x\"]}");
  const char *id = test_json_string (c, "data.id");
  g_autoptr(TestResponse) r = get_stream (id);
  JsonObject *o;

  g_assert_cmpuint (r->status, ==, 200);
  o = json_node_get_object (test_json_node (r, "data.stream"));
  assert_public_form (o);
  g_assert_null (strstr (r->body, test_json_string (c, "data.stream_key")));
  g_assert_cmpstr (test_json_string (r, "data.stream.id"), ==, id);
  g_assert_cmpstr (test_json_string (r, "data.stream.user_id"), ==, user_id);
  g_assert_cmpstr (test_json_string (r, "data.stream.title"), ==, "Public");
  g_assert_cmpstr (test_json_string (r, "data.stream.tags.0"), ==, "x");
  g_assert_cmpstr (test_json_string (r, "data.stream.created_at"), ==,
                   test_json_string (c, "data.created_at"));

  /* Even the owner gets the public form here. */
  {
    g_autofree char *path = g_strconcat (STREAMS "/", id, NULL);
    g_autoptr(TestResponse) mine = get (path, token);

    g_assert_cmpuint (mine->status, ==, 200);
    assert_public_form (json_node_get_object (test_json_node (mine, "data.stream")));
  }
  /* A trailing slash names the same resource. */
  {
    g_autofree char *path = g_strconcat (STREAMS "/", id, "/", NULL);
    g_autoptr(TestResponse) slash = get (path, NULL);

    g_assert_cmpuint (slash->status, ==, 200);
  }
}

static void
test_get_not_found (void)
{
  const char *malformed[] = {
    "not-a-uuid", "12345", "00000000-0000-0000-0000-00000000000",
    "00000000-0000-0000-0000-0000000000000", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
    "%27%20OR%201%3D1--",
  };
  g_autoptr(TestResponse) r = get_stream ("00000000-0000-4000-8000-000000000000");

  test_assert_error (r, 404, "not_found");
  for (guint i = 0; i < G_N_ELEMENTS (malformed); i++)
    {
      g_autoptr(TestResponse) m = get_stream (malformed[i]);

      g_test_message ("id %s", malformed[i]);
      test_assert_error (m, 400, "invalid_request");
    }
}

/* ---- list --------------------------------------------------------------- */

static void
assert_ids (TestResponse       *r,
            const char * const *ids)
{
  JsonArray *a = list_items (r);
  guint n = g_strv_length ((char **) ids);

  if (json_array_get_length (a) != n)
    g_printerr ("unexpected list: %s\n", r->body);
  g_assert_cmpuint (json_array_get_length (a), ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (item_id (a, i), ==, ids[i]);
  g_assert_cmpint (test_json_int (r, "data.total"), ==, n);
}

static void
test_list_filters (void)
{
  g_autofree char *uid = NULL;
  g_autofree char *token = new_user ("filters", &uid);
  g_autofree char *later = time_from_now (3 * 24 * 3600);
  g_autofree char *sooner = time_from_now (24 * 3600);
  g_autofree char *plain = test_create_stream (ts, token, "plain");
  g_autofree char *live = test_create_stream (ts, token, "live");
  g_autofree char *vod = test_create_stream (ts, token, "vod");
  g_autofree char *sched_later = NULL;
  g_autofree char *sched_sooner = NULL;
  g_autofree char *q = NULL;

  {
    g_autofree char *body = g_strdup_printf ("{\"title\": \"later\", \"scheduled_at\": \"%s\"}", later);
    g_autoptr(TestResponse) r = create (token, body);

    g_assert_cmpuint (r->status, ==, 201);
    sched_later = g_strdup (test_json_string (r, "data.id"));
  }
  {
    /* Created after "later" but due sooner */
    g_autofree char *body = g_strdup_printf ("{\"title\": \"sooner\", \"scheduled_at\": \"%s\"}", sooner);
    g_autoptr(TestResponse) r = create (token, body);

    g_assert_cmpuint (r->status, ==, 201);
    sched_sooner = g_strdup (test_json_string (r, "data.id"));
  }
  assert_event_ok ("stream_started", live);
  make_vod (vod);

  {
    /* Everything, newest first */
    const char *ids[] = { sched_sooner, sched_later, vod, live, plain, NULL };
    g_autoptr(TestResponse) r = NULL;

    q = g_strconcat ("user_id=", uid, NULL);
    r = list (q);
    assert_ids (r, ids);
    assert_all_items_public (r);
    g_clear_pointer (&q, g_free);
  }
  {
    const char *ids[] = { live, NULL };
    g_autoptr(TestResponse) r = NULL;

    q = g_strconcat ("is_live=true&user_id=", uid, NULL);
    r = list (q);
    assert_ids (r, ids);
    g_assert_true (json_object_get_boolean_member (
      json_array_get_object_element (list_items (r), 0), "is_live"));
    assert_all_items_public (r);
    g_clear_pointer (&q, g_free);
  }
  {
    const char *ids[] = { sched_sooner, sched_later, vod, plain, NULL };
    g_autoptr(TestResponse) r = NULL;

    q = g_strconcat ("is_live=false&user_id=", uid, NULL);
    r = list (q);
    assert_ids (r, ids);
    g_clear_pointer (&q, g_free);
  }
  {
    const char *ids[] = { vod, NULL };
    g_autoptr(TestResponse) r = NULL;
    JsonObject *o;

    q = g_strconcat ("is_vod=true&user_id=", uid, NULL);
    r = list (q);
    assert_ids (r, ids);
    o = json_array_get_object_element (list_items (r), 0);
    g_assert_true (json_object_get_boolean_member (o, "is_vod"));
    g_assert_false (json_object_get_boolean_member (o, "is_live"));
    g_assert_true (g_str_has_suffix (json_object_get_string_member (o, "stream_url"), "/vod.m3u8"));
    g_clear_pointer (&q, g_free);
  }
  {
    /* Future scheduled_at only, soonest first */
    const char *ids[] = { sched_sooner, sched_later, NULL };
    g_autoptr(TestResponse) r = NULL;

    q = g_strconcat ("scheduled=true&user_id=", uid, NULL);
    r = list (q);
    assert_ids (r, ids);
    assert_all_items_public (r);
    g_clear_pointer (&q, g_free);
  }
  {
    /* The complement: not scheduled for the future */
    const char *ids[] = { vod, live, plain, NULL };
    g_autoptr(TestResponse) r = NULL;

    q = g_strconcat ("scheduled=false&user_id=", uid, NULL);
    r = list (q);
    assert_ids (r, ids);
    g_clear_pointer (&q, g_free);
  }
  {
    /* Filters combine. */
    const char *ids[] = { NULL };
    g_autoptr(TestResponse) r = NULL;

    q = g_strconcat ("is_live=true&is_vod=true&user_id=", uid, NULL);
    r = list (q);
    assert_ids (r, ids);
    g_clear_pointer (&q, g_free);
  }
  {
    /* Across users, the live one is among the live ones. */
    g_autoptr(TestResponse) r = list ("is_live=true&limit=100");
    JsonArray *a = list_items (r);
    gboolean found = FALSE;

    for (guint i = 0; i < json_array_get_length (a); i++)
      {
        JsonObject *o = json_array_get_object_element (a, i);

        g_assert_true (json_object_get_boolean_member (o, "is_live"));
        found |= g_str_equal (json_object_get_string_member (o, "id"), live);
      }
    g_assert_true (found);
    assert_all_items_public (r);
  }
  {
    /* Another user's filter sees none of these. */
    g_autoptr(TestResponse) r = list ("user_id=00000000-0000-4000-8000-000000000000");
    const char *ids[] = { NULL };

    assert_ids (r, ids);
  }
  assert_event_ok ("stream_ended", live);
}

static void
test_list_bad_parameters (void)
{
  const char *queries[] = {
    "is_live=yes", "is_live=", "is_live=TRUEISH", "is_vod=2", "scheduled=maybe",
    "user_id=abc", "user_id=", "user_id=00000000-0000-0000-0000-00000000000g",
    "limit=0", "limit=101", "limit=-1", "limit=abc", "limit=1.5", "limit=", "limit=99999999999999999999",
    "offset=-1", "offset=x", "offset=1e3",
  };

  for (guint i = 0; i < G_N_ELEMENTS (queries); i++)
    {
      g_autofree char *path = g_strconcat (STREAMS "?", queries[i], NULL);
      g_autoptr(TestResponse) r = get (path, NULL);

      g_test_message ("query %s", queries[i]);
      test_assert_error (r, 400, "invalid_request");
    }
  {
    /* Case and 1/0 are accepted for booleans; unknown parameters ignored. */
    g_autoptr(TestResponse) r = list ("is_live=FALSE&is_vod=0&whatever=1");
    g_assert_true (test_json_bool (r, "success"));
  }
}

static void
test_list_paging (void)
{
  g_autofree char *uid = NULL;
  g_autofree char *token = new_user ("paging", &uid);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) newest_first = g_ptr_array_new ();
  g_autofree char *q = NULL;

  for (guint i = 0; i < 25; i++)
    {
      g_autofree char *title = g_strdup_printf ("page %u", i);

      g_ptr_array_add (ids, test_create_stream (ts, token, title));
    }
  for (guint i = ids->len; i > 0; i--)
    g_ptr_array_add (newest_first, g_ptr_array_index (ids, i - 1));

  {
    /* Default limit 20 */
    g_autoptr(TestResponse) r = NULL;
    JsonArray *a;

    q = g_strconcat ("user_id=", uid, NULL);
    r = list (q);
    a = list_items (r);
    g_assert_cmpuint (json_array_get_length (a), ==, 20);
    g_assert_cmpint (test_json_int (r, "data.total"), ==, 25);
    g_assert_cmpint (test_json_int (r, "data.limit"), ==, 20);
    g_assert_cmpint (test_json_int (r, "data.offset"), ==, 0);
    for (guint i = 0; i < 20; i++)
      g_assert_cmpstr (item_id (a, i), ==, g_ptr_array_index (newest_first, i));
    assert_all_items_public (r);
    g_clear_pointer (&q, g_free);
  }
  {
    g_autoptr(TestResponse) r = NULL;
    JsonArray *a;

    q = g_strconcat ("user_id=", uid, "&offset=20", NULL);
    r = list (q);
    a = list_items (r);
    g_assert_cmpuint (json_array_get_length (a), ==, 5);
    g_assert_cmpint (test_json_int (r, "data.total"), ==, 25);
    g_assert_cmpint (test_json_int (r, "data.offset"), ==, 20);
    for (guint i = 0; i < 5; i++)
      g_assert_cmpstr (item_id (a, i), ==, g_ptr_array_index (newest_first, 20 + i));
    g_clear_pointer (&q, g_free);
  }
  {
    g_autoptr(TestResponse) r = NULL;
    JsonArray *a;

    q = g_strconcat ("user_id=", uid, "&limit=7&offset=7", NULL);
    r = list (q);
    a = list_items (r);
    g_assert_cmpuint (json_array_get_length (a), ==, 7);
    g_assert_cmpint (test_json_int (r, "data.limit"), ==, 7);
    for (guint i = 0; i < 7; i++)
      g_assert_cmpstr (item_id (a, i), ==, g_ptr_array_index (newest_first, 7 + i));
    g_clear_pointer (&q, g_free);
  }
  {
    /* The maximum */
    g_autoptr(TestResponse) r = NULL;

    q = g_strconcat ("user_id=", uid, "&limit=100", NULL);
    r = list (q);
    g_assert_cmpuint (json_array_get_length (list_items (r)), ==, 25);
    g_assert_cmpint (test_json_int (r, "data.limit"), ==, 100);
    g_clear_pointer (&q, g_free);
  }
  {
    /* Past the end: an empty page, the total still told */
    g_autoptr(TestResponse) r = NULL;

    q = g_strconcat ("user_id=", uid, "&offset=25", NULL);
    r = list (q);
    g_assert_cmpuint (json_array_get_length (list_items (r)), ==, 0);
    g_assert_cmpint (test_json_int (r, "data.total"), ==, 25);
    g_clear_pointer (&q, g_free);
  }
  {
    /* The public list of everything: default limit, newest first */
    g_autoptr(TestResponse) r = list (NULL);
    JsonArray *a = list_items (r);

    g_assert_cmpuint (json_array_get_length (a), <=, 20);
    g_assert_cmpint (test_json_int (r, "data.total"), >=, 25);
    for (guint i = 1; i < json_array_get_length (a); i++)
      {
        const char *prev = json_object_get_string_member (json_array_get_object_element (a, i - 1),
                                                          "created_at");
        const char *cur = json_object_get_string_member (json_array_get_object_element (a, i),
                                                         "created_at");
        g_autoptr(GDateTime) tp = g_date_time_new_from_iso8601 (prev, NULL);
        g_autoptr(GDateTime) tc = g_date_time_new_from_iso8601 (cur, NULL);

        g_assert_cmpint (g_date_time_compare (tp, tc), >=, 0);
      }
    assert_all_items_public (r);
  }
}

/* ---- mine and keys ------------------------------------------------------ */

static void
test_mine (void)
{
  g_autofree char *token = new_user ("mine", NULL);
  g_autofree char *other = new_user ("notmine", NULL);
  g_autofree char *a = test_create_stream (ts, token, "first");
  g_autofree char *b = test_create_stream (ts, token, "second");
  g_autofree char *c = test_create_stream (ts, other, "someone else's");
  g_autoptr(TestResponse) r = get (STREAMS "/me", token);
  JsonArray *items;

  g_assert_nonnull (c);
  g_assert_cmpuint (r->status, ==, 200);
  items = list_items (r);
  g_assert_cmpuint (json_array_get_length (items), ==, 2);
  g_assert_cmpstr (item_id (items, 0), ==, b);
  g_assert_cmpstr (item_id (items, 1), ==, a);
  for (guint i = 0; i < 2; i++)
    assert_owner_form (json_array_get_object_element (items, i));

  {
    g_autoptr(TestResponse) none = get (STREAMS "/me", NULL);
    test_assert_error (none, 401, "unauthorized");
  }
  {
    /* A user with no stream has an empty list. */
    g_autofree char *fresh = new_user ("nostreams", NULL);
    g_autoptr(TestResponse) empty = get (STREAMS "/me", fresh);

    g_assert_cmpuint (empty->status, ==, 200);
    g_assert_cmpuint (json_array_get_length (list_items (empty)), ==, 0);
  }
}

static void
test_key_draft (void)
{
  g_autofree char *uid = NULL;
  g_autofree char *token = new_user ("keydraft", &uid);
  g_autoptr(TestResponse) k1 = get (STREAMS "/me/key", token);
  g_autoptr(TestResponse) k2 = NULL;
  g_autoptr(TestResponse) mine = NULL;
  JsonObject *o;

  g_assert_cmpuint (k1->status, ==, 200);
  o = json_node_get_object (test_json_node (k1, "data"));
  g_assert_cmpuint (json_object_get_size (o), ==, 3);
  g_assert_true (g_uuid_string_is_valid (test_json_string (k1, "data.stream_id")));
  g_assert_true (g_str_has_prefix (test_json_string (k1, "data.stream_key"), "live_"));
  g_assert_true (g_str_has_prefix (test_json_string (k1, "data.rtmp_url"), "rtmp://"));

  /* The draft */
  mine = get (STREAMS "/me", token);
  g_assert_cmpuint (json_array_get_length (list_items (mine)), ==, 1);
  g_assert_cmpstr (test_json_string (mine, "data.streams.0.title"), ==, "My Stream");
  g_assert_cmpstr (test_json_string (mine, "data.streams.0.id"), ==,
                   test_json_string (k1, "data.stream_id"));
  g_assert_cmpstr (test_json_string (mine, "data.streams.0.stream_key"), ==,
                   test_json_string (k1, "data.stream_key"));

  /* Asked again: the same stream, the same key, no second draft */
  k2 = get (STREAMS "/me/key", token);
  g_assert_cmpuint (k2->status, ==, 200);
  g_assert_cmpstr (test_json_string (k2, "data.stream_id"), ==, test_json_string (k1, "data.stream_id"));
  g_assert_cmpstr (test_json_string (k2, "data.stream_key"), ==, test_json_string (k1, "data.stream_key"));
  g_assert_cmpint (user_total (uid), ==, 1);

  {
    g_autoptr(TestResponse) r = get (STREAMS "/me/key", NULL);
    test_assert_error (r, 401, "unauthorized");
  }
  {
    g_autoptr(TestResponse) r = test_request (ts, "POST", STREAMS "/me/key/regenerate", NULL, NULL, NULL);
    test_assert_error (r, 401, "unauthorized");
  }
}

static void
test_key_current_stream (void)
{
  g_autofree char *uid = NULL;
  g_autofree char *token = new_user ("keycur", &uid);
  g_autoptr(TestResponse) a = create (token, "{\"title\": \"older\"}");
  g_autoptr(TestResponse) b = create (token, "{\"title\": \"newer\"}");

  /* The newest stream that has not ended */
  {
    g_autoptr(TestResponse) k = get (STREAMS "/me/key", token);

    g_assert_cmpuint (k->status, ==, 200);
    g_assert_cmpstr (test_json_string (k, "data.stream_id"), ==, test_json_string (b, "data.id"));
    g_assert_cmpstr (test_json_string (k, "data.stream_key"), ==, test_json_string (b, "data.stream_key"));
  }
  /* Once it has ended, the older one is current. */
  assert_event_ok ("stream_started", test_json_string (b, "data.id"));
  assert_event_ok ("stream_ended", test_json_string (b, "data.id"));
  {
    g_autoptr(TestResponse) k = get (STREAMS "/me/key", token);

    g_assert_cmpuint (k->status, ==, 200);
    g_assert_cmpstr (test_json_string (k, "data.stream_id"), ==, test_json_string (a, "data.id"));
  }
  g_assert_cmpint (user_total (uid), ==, 2);
}

static TestResponse *
on_publish (const char *key)
{
  g_autofree char *body = g_strdup_printf ("app=live&name=%s", key);
  const char *headers[] = { "Content-Type: application/x-www-form-urlencoded", NULL };

  return test_request_full (ts, "POST", "/internal/rtmp/on_publish?token=" INTERNAL_TOKEN,
                            headers, body, strlen (body));
}

static void
test_key_regenerate (void)
{
  g_autofree char *token = new_user ("regen", NULL);
  g_autofree char *other = new_user ("regenother", NULL);
  g_autoptr(TestResponse) k1 = get (STREAMS "/me/key", token);
  g_autoptr(TestResponse) k2 = test_request (ts, "POST", STREAMS "/me/key/regenerate", token, NULL, NULL);
  g_autoptr(TestResponse) k3 = NULL;
  g_autoptr(TestResponse) mine = NULL;
  g_autoptr(TestResponse) ko = NULL;
  const char *old_key = test_json_string (k1, "data.stream_key");
  const char *new_key = test_json_string (k2, "data.stream_key");

  g_assert_cmpuint (k2->status, ==, 200);
  g_assert_cmpstr (test_json_string (k2, "data.stream_id"), ==, test_json_string (k1, "data.stream_id"));
  g_assert_true (g_str_has_prefix (new_key, "live_"));
  g_assert_cmpstr (new_key, !=, old_key);
  g_assert_nonnull (test_json_string (k2, "data.rtmp_url"));

  /* The stream now has the new key, and /me/key tells it. */
  mine = get (STREAMS "/me", token);
  g_assert_cmpstr (test_json_string (mine, "data.streams.0.stream_key"), ==, new_key);
  k3 = get (STREAMS "/me/key", token);
  g_assert_cmpstr (test_json_string (k3, "data.stream_key"), ==, new_key);

  /* The old key belongs to no stream any more, and cannot start a publish. */
  {
    const char *params[1] = { old_key };
    g_autofree char *n = test_db_value (ts, "SELECT count (*) AS value FROM live_streams"
                                        " WHERE stream_key = $1", 1, params);
    g_assert_cmpstr (n, ==, "0");
  }
  {
    g_autoptr(TestResponse) r = on_publish (old_key);
    test_assert_error (r, 403, "forbidden");
  }
  /* The new one can (no tcurl: accepted, and nothing pulled). */
  {
    g_autoptr(TestResponse) r = NULL;

    g_test_expect_message ("veza", G_LOG_LEVEL_MESSAGE, "edge publish accepted*");
    g_test_expect_message ("veza", G_LOG_LEVEL_WARNING, "*did not say where it is*");
    r = on_publish (new_key);
    g_test_assert_expected_messages ();
    g_assert_cmpuint (r->status, ==, 200);
  }

  /* Keys are unique across users. */
  ko = get (STREAMS "/me/key", other);
  g_assert_cmpstr (test_json_string (ko, "data.stream_key"), !=, new_key);
  g_assert_cmpstr (test_json_string (ko, "data.stream_key"), !=, old_key);
  g_assert_cmpstr (test_json_string (ko, "data.stream_id"), !=, test_json_string (k1, "data.stream_id"));
  {
    g_autofree char *n = test_db_value (ts, "SELECT count (*) - count (DISTINCT stream_key) AS value"
                                        " FROM live_streams", 0, NULL);
    g_assert_cmpstr (n, ==, "0");
  }

  /* Regenerating with no stream at all makes the draft. */
  {
    g_autofree char *uid = NULL;
    g_autofree char *fresh = new_user ("regenfresh", &uid);
    g_autoptr(TestResponse) r = test_request (ts, "POST", STREAMS "/me/key/regenerate", fresh, NULL, NULL);

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_true (g_str_has_prefix (test_json_string (r, "data.stream_key"), "live_"));
    g_assert_cmpint (user_total (uid), ==, 1);
  }
}

/* ---- update ------------------------------------------------------------- */

typedef struct {
  char *stream_id;
  char *title;
  guint n;
} Updated;

static void
on_stream_updated (VezaServer *server,
                   const char *stream_id,
                   JsonObject *stream,
                   Updated    *u)
{
  g_free (u->stream_id);
  g_free (u->title);
  u->stream_id = g_strdup (stream_id);
  u->title = g_strdup (json_object_get_string_member (stream, "title"));
  u->n++;
  /* What chat rooms get is the public form. */
  assert_public_form (stream);
}

static void
test_update_partial (void)
{
  g_autofree char *token = new_user ("updater", NULL);
  g_autoptr(TestResponse) c = create (token, "{\"title\": \"Before\", \"description\": \"desc\","
                                      " \"category\": \"Music\", \"tags\": [\"a\", \"b\"],"
                                      " \"thumbnail_url\": \"http://example.org/t.png\"}");
  const char *id = test_json_string (c, "data.id");
  g_autoptr(GDateTime) updated_before = parse_time (c, "data.updated_at");
  g_autoptr(TestResponse) r = NULL;
  g_autoptr(GDateTime) updated_after = NULL;

  test_run_for (20);
  r = put (id, token, "{\"title\": \"After\"}");
  g_assert_cmpuint (r->status, ==, 200);
  assert_owner_form (json_node_get_object (test_json_node (r, "data")));
  g_assert_cmpstr (test_json_string (r, "data.title"), ==, "After");
  g_assert_cmpstr (test_json_string (r, "data.description"), ==, "desc");
  g_assert_cmpstr (test_json_string (r, "data.category"), ==, "Music");
  g_assert_cmpstr (test_json_string (r, "data.tags.0"), ==, "a");
  g_assert_cmpstr (test_json_string (r, "data.tags.1"), ==, "b");
  g_assert_cmpstr (test_json_string (r, "data.thumbnail_url"), ==, "http://example.org/t.png");
  g_assert_cmpstr (test_json_string (r, "data.stream_key"), ==, test_json_string (c, "data.stream_key"));
  g_assert_cmpstr (test_json_string (r, "data.created_at"), ==, test_json_string (c, "data.created_at"));
  updated_after = parse_time (r, "data.updated_at");
  g_assert_cmpint (g_date_time_compare (updated_after, updated_before), >, 0);

  /* Persisted */
  {
    g_autoptr(TestResponse) g = get_stream (id);
    g_assert_cmpstr (test_json_string (g, "data.stream.title"), ==, "After");
    g_assert_cmpstr (test_json_string (g, "data.stream.description"), ==, "desc");
  }

  /* Other fields; null clears the optional ones. */
  {
    g_autofree char *when = time_from_now (3600);
    g_autofree char *body = g_strdup_printf ("{\"tags\": [\"z\"], \"category\": null,"
                                             " \"thumbnail_url\": null, \"scheduled_at\": \"%s\"}",
                                             when);
    g_autoptr(TestResponse) u = put (id, token, body);

    g_assert_cmpuint (u->status, ==, 200);
    g_assert_cmpstr (test_json_string (u, "data.title"), ==, "After");
    g_assert_cmpuint (json_array_get_length (json_node_get_array (test_json_node (u, "data.tags"))),
                      ==, 1);
    g_assert_cmpstr (test_json_string (u, "data.tags.0"), ==, "z");
    g_assert_cmpstr (test_json_string (u, "data.category"), ==, "");
    g_assert_true (JSON_NODE_HOLDS_NULL (test_json_node (u, "data.thumbnail_url")));
    g_assert_cmpstr (test_json_string (u, "data.scheduled_at"), ==, when);
  }
  {
    g_autoptr(TestResponse) u = put (id, token, "{\"scheduled_at\": null, \"tags\": [],"
                                     " \"description\": \"\"}");

    g_assert_cmpuint (u->status, ==, 200);
    g_assert_true (JSON_NODE_HOLDS_NULL (test_json_node (u, "data.scheduled_at")));
    g_assert_cmpuint (json_array_get_length (json_node_get_array (test_json_node (u, "data.tags"))),
                      ==, 0);
    g_assert_cmpstr (test_json_string (u, "data.description"), ==, "");
  }
  /* Chat rooms hear of the change, under the stream's id however the
   * request spelt it. */
  {
    Updated u = { 0 };
    g_autofree char *upper = g_ascii_strup (id, -1);
    gulong handler = g_signal_connect (ts->server, "stream-updated",
                                       G_CALLBACK (on_stream_updated), &u);
    g_autoptr(TestResponse) up = put (upper, token, "{\"title\": \"Heard\"}");

    g_signal_handler_disconnect (ts->server, handler);
    g_assert_cmpuint (up->status, ==, 200);
    g_assert_cmpuint (u.n, ==, 1);
    g_assert_cmpstr (u.stream_id, ==, id);
    g_assert_cmpstr (u.title, ==, "Heard");
    g_free (u.stream_id);
    g_free (u.title);
  }
  /* An empty object changes nothing but is fine. */
  {
    g_autoptr(TestResponse) u = put (id, token, "{}");

    g_assert_cmpuint (u->status, ==, 200);
    g_assert_cmpstr (test_json_string (u, "data.title"), ==, "Heard");
  }
  /* During the live too */
  assert_event_ok ("stream_started", id);
  {
    g_autoptr(TestResponse) u = put (id, token, "{\"title\": \"Live title\"}");

    g_assert_cmpuint (u->status, ==, 200);
    g_assert_true (test_json_bool (u, "data.is_live"));
    g_assert_cmpstr (test_json_string (u, "data.title"), ==, "Live title");
  }
  assert_event_ok ("stream_ended", id);
}

static void
test_update_refused (void)
{
  g_autofree char *token = new_user ("owner", NULL);
  g_autofree char *intruder = new_user ("intruder", NULL);
  g_autofree char *id = test_create_stream (ts, token, "Mine");
  g_autofree char *t201 = g_strnfill (201, 't');
  g_autofree char *s_title = g_strdup_printf ("{\"title\": \"%s\"}", t201);
  g_autoptr(TestResponse) before = get_stream (id);
  const char *invalid[] = {
    "{\"title\": \"\"}",
    "{\"title\": \"  \"}",
    "{\"title\": null}",
    s_title,
    "{\"title\": \"Changed\", \"tags\": [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\"]}",
    "{\"title\": \"Changed\", \"thumbnail_url\": \"file:///etc/passwd\"}",
    "{\"title\": \"Changed\", \"scheduled_at\": \"2020-01-01T00:00:00Z\"}",
    "{\"title\": \"Changed\", \"category\": 7}",
    "{\"title\": \"Changed\"",
    "[]",
    "",
  };

  {
    g_autoptr(TestResponse) r = put (id, intruder, "{\"title\": \"Hijacked\"}");
    test_assert_error (r, 403, "forbidden");
  }
  {
    g_autoptr(TestResponse) r = put (id, NULL, "{\"title\": \"Hijacked\"}");
    test_assert_error (r, 401, "unauthorized");
  }
  {
    g_autoptr(TestResponse) r = put ("00000000-0000-4000-8000-000000000000", token, "{\"title\": \"x\"}");
    test_assert_error (r, 404, "not_found");
  }
  {
    g_autoptr(TestResponse) r = put ("nope", token, "{\"title\": \"x\"}");
    test_assert_error (r, 400, "invalid_request");
  }
  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr(TestResponse) r = NULL;

      g_test_message ("body %.80s", invalid[i]);
      r = put (id, token, invalid[i]);
      test_assert_error (r, 400, "invalid_request");
    }

  /* Nothing changed, not even updated_at. */
  {
    g_autoptr(TestResponse) after = get_stream (id);

    g_assert_cmpstr (test_json_string (after, "data.stream.title"), ==, "Mine");
    g_assert_cmpstr (test_json_string (after, "data.stream.updated_at"), ==,
                     test_json_string (before, "data.stream.updated_at"));
    g_assert_cmpuint (json_array_get_length (json_node_get_array (test_json_node (after, "data.stream.tags"))),
                      ==, 0);
  }
}

/* ---- delete ------------------------------------------------------------- */

static gboolean
dir_gone (gpointer data)
{
  return !g_file_test (data, G_FILE_TEST_EXISTS);
}

static void
test_delete (void)
{
  g_autofree char *uid = NULL;
  g_autofree char *token = new_user ("deleter", &uid);
  g_autofree char *intruder = new_user ("delintruder", NULL);
  g_autofree char *id = test_create_stream (ts, token, "Doomed");

  {
    g_autoptr(TestResponse) r = stream_action ("DELETE", id, "", intruder);
    test_assert_error (r, 403, "forbidden");
  }
  {
    g_autoptr(TestResponse) r = stream_action ("DELETE", id, "", NULL);
    test_assert_error (r, 401, "unauthorized");
  }
  {
    g_autoptr(TestResponse) r = get_stream (id);
    g_assert_cmpuint (r->status, ==, 200);
  }
  {
    g_autoptr(TestResponse) r = stream_action ("DELETE", id, "", token);

    g_assert_cmpuint (r->status, ==, 204);
    g_assert_cmpuint (r->body_len, ==, 0);
  }
  {
    g_autoptr(TestResponse) r = get_stream (id);
    test_assert_error (r, 404, "not_found");
  }
  {
    g_autoptr(TestResponse) r = stream_action ("DELETE", id, "", token);
    test_assert_error (r, 404, "not_found");
  }
  {
    g_autoptr(TestResponse) r = stream_action ("DELETE", "not-a-uuid", "", token);
    test_assert_error (r, 400, "invalid_request");
  }
  g_assert_cmpint (user_total (uid), ==, 0);
}

static void
test_delete_live (void)
{
  g_autofree char *uid = NULL;
  g_autofree char *token = new_user ("dellive", &uid);
  g_autofree char *id = test_create_stream (ts, token, "Live and doomed");
  g_autofree char *dir = g_build_filename (ts->data_dir, "media", id, NULL);

  assert_event_ok ("stream_started", id);
  test_fake_recording (ts, id);
  {
    /* The id may be spelt in capitals (it is the same UUID). */
    g_autofree char *upper = g_ascii_strup (id, -1);
    g_autoptr(TestResponse) r = stream_action ("DELETE", upper, "", token);

    g_assert_cmpuint (r->status, ==, 204);
  }
  {
    g_autoptr(TestResponse) r = get_stream (id);
    test_assert_error (r, 404, "not_found");
  }
  {
    g_autoptr(TestResponse) r = list ("is_live=true&limit=100");
    g_assert_null (strstr (r->body, id));
  }
  /* Its recording goes too. */
  g_assert_true (test_wait_until (dir_gone, dir, 10));
  /* And the broadcast is over: there is nothing left to end. */
  {
    g_autoptr(TestResponse) r = test_stream_event (ts, INTERNAL_TOKEN, "stream_ended", id);
    test_assert_error (r, 404, "not_found");
  }
}

/* ---- stop --------------------------------------------------------------- */

static void
test_stop (void)
{
  g_autofree char *token = new_user ("stopper", NULL);
  g_autofree char *intruder = new_user ("stopintruder", NULL);
  g_autofree char *id = test_create_stream (ts, token, "Stoppable");
  g_autoptr(TestResponse) stopped = NULL;

  {
    g_autoptr(TestResponse) r = stream_action ("POST", id, "/stop", token);
    test_assert_error (r, 409, "conflict");
  }
  assert_event_ok ("stream_started", id);
  {
    g_autoptr(TestResponse) r = stream_action ("POST", id, "/stop", intruder);
    test_assert_error (r, 403, "forbidden");
  }
  {
    g_autoptr(TestResponse) r = stream_action ("POST", id, "/stop", NULL);
    test_assert_error (r, 401, "unauthorized");
  }
  {
    g_autoptr(TestResponse) r = get_stream (id);
    g_assert_true (test_json_bool (r, "data.stream.is_live"));
  }

  stopped = stream_action ("POST", id, "/stop", token);
  g_assert_cmpuint (stopped->status, ==, 200);
  assert_owner_form (json_node_get_object (test_json_node (stopped, "data")));
  g_assert_false (test_json_bool (stopped, "data.is_live"));
  g_assert_true (is_utc_time (test_json_string (stopped, "data.ended_at")));
  g_assert_true (is_utc_time (test_json_string (stopped, "data.started_at")));
  /* Nothing was recorded here: no VOD */
  g_assert_false (test_json_bool (stopped, "data.is_vod"));
  g_assert_true (JSON_NODE_HOLDS_NULL (test_json_node (stopped, "data.stream_url")));

  {
    g_autoptr(TestResponse) r = get_stream (id);

    g_assert_false (test_json_bool (r, "data.stream.is_live"));
    g_assert_cmpstr (test_json_string (r, "data.stream.ended_at"), ==,
                     test_json_string (stopped, "data.ended_at"));
  }
  {
    g_autoptr(TestResponse) r = stream_action ("POST", id, "/stop", token);
    test_assert_error (r, 409, "conflict");
  }
  {
    g_autoptr(TestResponse) r = stream_action ("POST", "00000000-0000-4000-8000-000000000000",
                                               "/stop", token);
    test_assert_error (r, 404, "not_found");
  }
  {
    g_autoptr(TestResponse) r = stream_action ("POST", "bad", "/stop", token);
    test_assert_error (r, 400, "invalid_request");
  }
}

static void
test_stop_makes_vod (void)
{
  g_autofree char *token = new_user ("stopvod", NULL);
  g_autofree char *id = test_create_stream (ts, token, "Recorded");
  g_autoptr(TestResponse) r = NULL;
  g_autofree char *suffix = g_strdup_printf ("/hls/%s/vod.m3u8", id);
  g_autofree char *upper = g_ascii_strup (id, -1);

  assert_event_ok ("stream_started", id);
  test_fake_recording (ts, id);
  r = stream_action ("POST", upper, "/stop", token);
  g_assert_cmpuint (r->status, ==, 200);
  g_assert_cmpstr (test_json_string (r, "data.id"), ==, id);
  g_assert_false (test_json_bool (r, "data.is_live"));
  g_assert_true (test_json_bool (r, "data.is_vod"));
  g_assert_true (g_str_has_prefix (test_json_string (r, "data.stream_url"), ts->base_url));
  g_assert_true (g_str_has_suffix (test_json_string (r, "data.stream_url"), suffix));
  /* The broadcast is over here too: it can go live again (as a new row). */
  {
    g_autoptr(TestResponse) again = test_stream_event (ts, INTERNAL_TOKEN, "stream_started", id);

    g_assert_cmpuint (again->status, ==, 200);
    assert_event_ok ("stream_ended", test_json_string (again, "data.stream.id"));
  }
}

/* ---- viewers ------------------------------------------------------------ */

static void
test_viewers (void)
{
  g_autofree char *token = new_user ("viewers", NULL);
  g_autofree char *id = test_create_stream (ts, token, "Watched");

  {
    g_autoptr(TestResponse) r = stream_action ("GET", id, "/viewers", NULL);

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_cmpint (test_json_int (r, "data.viewer_count"), ==, 0);
    g_assert_cmpuint (json_object_get_size (json_node_get_object (test_json_node (r, "data"))), ==, 1);
  }
  assert_event_ok ("stream_started", id);
  {
    g_autoptr(TestResponse) r = stream_action ("GET", id, "/viewers", NULL);

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_cmpint (test_json_int (r, "data.viewer_count"), ==, 0);
    g_assert_cmpstr (soup_message_headers_get_one (r->headers, "Cache-Control"), ==, "no-cache");
  }
  /* A player fetching the live playlist is a viewer, however the id is
   * spelt when asking. */
  test_fake_recording (ts, id);
  {
    g_autofree char *path = g_strdup_printf ("/hls/%s/live.m3u8", id);
    g_autoptr(TestResponse) r = get (path, NULL);

    g_assert_cmpuint (r->status, ==, 200);
  }
  {
    g_autofree char *upper = g_ascii_strup (id, -1);
    g_autoptr(TestResponse) r = stream_action ("GET", id, "/viewers", NULL);
    g_autoptr(TestResponse) ru = stream_action ("GET", upper, "/viewers", NULL);
    g_autoptr(TestResponse) s = get_stream (id);

    g_assert_cmpint (test_json_int (r, "data.viewer_count"), ==, 1);
    g_assert_cmpint (test_json_int (ru, "data.viewer_count"), ==, 1);
    g_assert_cmpint (test_json_int (s, "data.stream.viewer_count"), ==, 1);
  }
  assert_event_ok ("stream_ended", id);
  {
    g_autoptr(TestResponse) r = stream_action ("GET", id, "/viewers", NULL);
    g_assert_cmpint (test_json_int (r, "data.viewer_count"), ==, 0);
  }
  {
    g_autoptr(TestResponse) r = stream_action ("GET", "00000000-0000-4000-8000-000000000000",
                                               "/viewers", NULL);
    test_assert_error (r, 404, "not_found");
  }
  {
    g_autoptr(TestResponse) r = stream_action ("GET", "not-a-uuid", "/viewers", NULL);
    test_assert_error (r, 400, "invalid_request");
  }
}

/* After a broadcast ends, the user's key stays the one in OBS: /me/key
 * gives a new draft that took over the key and the metadata; regenerating
 * then retires it. */
static void
test_key_survives_broadcast (void)
{
  g_autofree char *token = test_register_user (ts, "keep", NULL);
  g_autoptr(TestResponse) created = test_request (ts, "POST", "/api/v1/live/streams", token,
                                                  "{\"title\":\"Keep\",\"category\":\"music\"}",
                                                  NULL);
  const char *id = test_json_string (created, "data.id");
  const char *key = test_json_string (created, "data.stream_key");
  g_autoptr(TestResponse) started = test_stream_event (ts, INTERNAL_TOKEN, "stream_started", id);
  g_autoptr(TestResponse) ended = test_stream_event (ts, INTERNAL_TOKEN, "stream_ended", id);
  g_autoptr(TestResponse) current = NULL;
  g_autoptr(TestResponse) again = NULL;
  g_autoptr(TestResponse) draft = NULL;
  g_autoptr(TestResponse) regenerated = NULL;
  g_autoptr(TestResponse) mine = NULL;
  g_autofree char *draft_path = NULL;

  g_assert_cmpuint (started->status, ==, 200);
  g_assert_cmpuint (ended->status, ==, 200);

  current = test_request (ts, "GET", "/api/v1/live/streams/me/key", token, NULL, NULL);
  g_assert_cmpuint (current->status, ==, 200);
  g_assert_cmpstr (test_json_string (current, "data.stream_key"), ==, key);
  g_assert_cmpstr (test_json_string (current, "data.stream_id"), !=, id);
  again = test_request (ts, "GET", "/api/v1/live/streams/me/key", token, NULL, NULL);
  g_assert_cmpstr (test_json_string (again, "data.stream_id"), ==,
                   test_json_string (current, "data.stream_id"));

  draft_path = g_strconcat ("/api/v1/live/streams/", test_json_string (current, "data.stream_id"), NULL);
  draft = test_request (ts, "GET", draft_path, NULL, NULL, NULL);
  g_assert_cmpstr (test_json_string (draft, "data.stream.title"), ==, "Keep");
  g_assert_cmpstr (test_json_string (draft, "data.stream.category"), ==, "music");

  regenerated = test_request (ts, "POST", "/api/v1/live/streams/me/key/regenerate", token, NULL, NULL);
  g_assert_cmpstr (test_json_string (regenerated, "data.stream_key"), !=, key);
  g_assert_cmpstr (test_json_string (regenerated, "data.stream_id"), ==,
                   test_json_string (current, "data.stream_id"));

  /* Nobody holds the old key any more. */
  mine = test_request (ts, "GET", "/api/v1/live/streams/me", token, NULL, NULL);
  g_assert_null (strstr (mine->body, key));
}

int
main (int argc, char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  ts = test_server_new (configure);

  g_test_add_func ("/veza/streams/create/owner-form", test_create_owner_form);
  g_test_add_func ("/veza/streams/create/defaults", test_create_defaults);
  g_test_add_func ("/veza/streams/create/scheduled-offset", test_create_scheduled_offset);
  g_test_add_func ("/veza/streams/create/invalid", test_create_invalid);
  g_test_add_func ("/veza/streams/create/unauthenticated", test_create_unauthenticated);
  g_test_add_func ("/veza/streams/get/public-form", test_get_public_form);
  g_test_add_func ("/veza/streams/get/not-found", test_get_not_found);
  g_test_add_func ("/veza/streams/list/filters", test_list_filters);
  g_test_add_func ("/veza/streams/list/bad-parameters", test_list_bad_parameters);
  g_test_add_func ("/veza/streams/list/paging", test_list_paging);
  g_test_add_func ("/veza/streams/me/list", test_mine);
  g_test_add_func ("/veza/streams/me/key-draft", test_key_draft);
  g_test_add_func ("/veza/streams/me/key-current", test_key_current_stream);
  g_test_add_func ("/veza/streams/me/key-regenerate", test_key_regenerate);
  g_test_add_func ("/veza/streams/me/key-survives-broadcast", test_key_survives_broadcast);
  g_test_add_func ("/veza/streams/update/partial", test_update_partial);
  g_test_add_func ("/veza/streams/update/refused", test_update_refused);
  g_test_add_func ("/veza/streams/delete/owner", test_delete);
  g_test_add_func ("/veza/streams/delete/live", test_delete_live);
  g_test_add_func ("/veza/streams/stop/lifecycle", test_stop);
  g_test_add_func ("/veza/streams/stop/vod", test_stop_makes_vod);
  g_test_add_func ("/veza/streams/viewers", test_viewers);

  ret = g_test_run ();
  test_server_free (ts);
  return ret;
}
