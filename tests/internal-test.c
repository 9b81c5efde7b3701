/* internal-test.c — /internal/stream-events and the nginx-rtmp callbacks
 *
 * The main server has an internal token; a second one, made by the test
 * that needs it, has none (the internal API is then refused entirely).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "test-utils.h"

#include <string.h>

#define INTERNAL_TOKEN "internal-test-secret-9876543210-abcdef"
#define STREAMS "/api/v1/live/streams"

static TestServer *ts;

static void
configure (VezaConfig *config)
{
  g_free (config->internal_token);
  config->internal_token = g_strdup (INTERNAL_TOKEN);
}

static TestResponse *
event (const char *name,
       const char *stream_id)
{
  return test_stream_event (ts, INTERNAL_TOKEN, name, stream_id);
}

static TestResponse *
raw_event (const char *body)
{
  const char *headers[] = { "X-Internal-Token: " INTERNAL_TOKEN, NULL };

  return test_request_full (ts, "POST", "/internal/stream-events", headers, body, strlen (body));
}

static TestResponse *
get_stream (const char *id)
{
  g_autofree char *path = g_strconcat (STREAMS "/", id, NULL);

  return test_request (ts, "GET", path, NULL, NULL, NULL);
}

static gint64
viewers (const char *id)
{
  g_autofree char *path = g_strconcat (STREAMS "/", id, "/viewers", NULL);
  g_autoptr(TestResponse) r = test_request (ts, "GET", path, NULL, NULL, NULL);

  g_assert_cmpuint (r->status, ==, 200);
  return test_json_int (r, "data.viewer_count");
}

static char *
new_stream (const char *prefix)
{
  g_autofree char *token = test_register_user (ts, prefix, NULL);

  return test_create_stream (ts, token, "Internal");
}

static TestResponse *
callback (const char *which,
          const char *token,
          const char *body)
{
  g_autofree char *path = g_strdup_printf ("/internal/rtmp/%s%s%s", which,
                                           token != NULL ? "?token=" : "",
                                           token != NULL ? token : "");
  const char *headers[] = { "Content-Type: application/x-www-form-urlencoded", NULL };

  return test_request_full (ts, "POST", path, headers, body, strlen (body));
}

/* ---- the secret --------------------------------------------------------- */

static void
test_disabled_without_token (void)
{
  TestServer *plain = test_server_new (NULL);
  const char *tokens[] = { NULL, "", "anything", INTERNAL_TOKEN };

  for (guint i = 0; i < G_N_ELEMENTS (tokens); i++)
    {
      g_autoptr(TestResponse) r = test_stream_event (plain, tokens[i], "stream_started",
                                                     "00000000-0000-4000-8000-000000000000");

      test_assert_error (r, 403, "forbidden");
    }
  {
    const char *headers[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
    const char *paths[] = {
      "/internal/rtmp/on_publish", "/internal/rtmp/on_publish?token=",
      "/internal/rtmp/on_publish?token=anything", "/internal/rtmp/on_publish_done?token=",
      "/internal/rtmp/on_publish_done?token=anything",
    };

    for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
      {
        g_autoptr(TestResponse) r = test_request_full (plain, "POST", paths[i], headers,
                                                       "app=live&name=live_x", 20);

        g_test_message ("%s", paths[i]);
        test_assert_error (r, 403, "forbidden");
      }
  }
  test_server_free (plain);
}

static void
test_wrong_token (void)
{
  g_autofree char *id = new_stream ("tok");
  g_autofree char *prefix = g_strndup (INTERNAL_TOKEN, strlen (INTERNAL_TOKEN) - 1);
  g_autofree char *longer = g_strconcat (INTERNAL_TOKEN, "x", NULL);
  g_autofree char *upper = g_ascii_strup (INTERNAL_TOKEN, -1);
  const char *tokens[] = { NULL, "", "wrong", prefix, longer, upper };

  for (guint i = 0; i < G_N_ELEMENTS (tokens); i++)
    {
      g_autoptr(TestResponse) r = test_stream_event (ts, tokens[i], "stream_started", id);

      g_test_message ("token %s", tokens[i] != NULL ? tokens[i] : "(none)");
      test_assert_error (r, 403, "forbidden");
    }
  /* The secret is not taken from the query string here. */
  {
    g_autofree char *body = g_strdup_printf ("{\"event\":\"stream_started\",\"stream_id\":\"%s\"}", id);
    g_autoptr(TestResponse) r = test_request_full (ts, "POST",
                                                   "/internal/stream-events?token=" INTERNAL_TOKEN,
                                                   NULL, body, strlen (body));
    test_assert_error (r, 403, "forbidden");
  }
  /* The token is checked before the body: no hint about what is valid. */
  {
    const char *headers[] = { "X-Internal-Token: wrong", NULL };
    g_autoptr(TestResponse) r = test_request_full (ts, "POST", "/internal/stream-events", headers,
                                                   "not json", 8);
    test_assert_error (r, 403, "forbidden");
  }
  /* Nothing happened to the stream. */
  {
    g_autoptr(TestResponse) r = get_stream (id);
    g_assert_false (test_json_bool (r, "data.stream.is_live"));
  }
}

/* ---- stream events ------------------------------------------------------ */

static void
test_lifecycle (void)
{
  g_autofree char *id = new_stream ("life");
  g_autofree char *suffix = g_strdup_printf ("/hls/%s/live.m3u8", id);
  g_autoptr(TestResponse) started = event ("stream_started", id);
  g_autoptr(TestResponse) ended = NULL;
  JsonObject *o;

  g_assert_cmpuint (started->status, ==, 200);
  g_assert_true (test_json_bool (started, "success"));
  o = json_node_get_object (test_json_node (started, "data.stream"));
  g_assert_false (json_object_has_member (o, "stream_key"));
  g_assert_cmpstr (test_json_string (started, "data.stream.id"), ==, id);
  g_assert_true (test_json_bool (started, "data.stream.is_live"));
  g_assert_false (test_json_bool (started, "data.stream.is_vod"));
  g_assert_nonnull (test_json_string (started, "data.stream.started_at"));
  g_assert_true (g_str_has_suffix (test_json_string (started, "data.stream.started_at"), "Z"));
  g_assert_true (JSON_NODE_HOLDS_NULL (test_json_node (started, "data.stream.ended_at")));
  g_assert_true (g_str_has_prefix (test_json_string (started, "data.stream.stream_url"), ts->base_url));
  g_assert_true (g_str_has_suffix (test_json_string (started, "data.stream.stream_url"), suffix));

  /* The public API agrees. */
  {
    g_autoptr(TestResponse) r = get_stream (id);

    g_assert_true (test_json_bool (r, "data.stream.is_live"));
    g_assert_cmpstr (test_json_string (r, "data.stream.stream_url"), ==,
                     test_json_string (started, "data.stream.stream_url"));
  }
  {
    g_autoptr(TestResponse) r = test_request (ts, "GET", STREAMS "?is_live=true&limit=100",
                                              NULL, NULL, NULL);
    g_assert_nonnull (strstr (r->body, id));
  }

  /* Already live */
  {
    g_autoptr(TestResponse) r = event ("stream_started", id);
    test_assert_error (r, 409, "conflict");
  }

  ended = event ("stream_ended", id);
  g_assert_cmpuint (ended->status, ==, 200);
  g_assert_cmpstr (test_json_string (ended, "data.stream.id"), ==, id);
  g_assert_false (test_json_bool (ended, "data.stream.is_live"));
  g_assert_nonnull (test_json_string (ended, "data.stream.ended_at"));
  g_assert_cmpstr (test_json_string (ended, "data.stream.started_at"), ==,
                   test_json_string (started, "data.stream.started_at"));
  /* Nothing recorded here: not a VOD, no URL */
  g_assert_false (test_json_bool (ended, "data.stream.is_vod"));
  g_assert_true (JSON_NODE_HOLDS_NULL (test_json_node (ended, "data.stream.stream_url")));
  {
    g_autoptr(TestResponse) r = get_stream (id);

    g_assert_false (test_json_bool (r, "data.stream.is_live"));
    g_assert_cmpstr (test_json_string (r, "data.stream.ended_at"), ==,
                     test_json_string (ended, "data.stream.ended_at"));
  }

  /* Not live any more */
  {
    g_autoptr(TestResponse) r = event ("stream_ended", id);
    test_assert_error (r, 409, "conflict");
  }
}

static void
test_vod (void)
{
  g_autofree char *id = new_stream ("vod");
  g_autofree char *suffix = g_strdup_printf ("/hls/%s/vod.m3u8", id);
  g_autoptr(TestResponse) started = event ("stream_started", id);
  g_autoptr(TestResponse) ended = NULL;

  g_assert_cmpuint (started->status, ==, 200);
  /* The external ingest wrote a recording into the shared media folder. */
  test_fake_recording (ts, id);
  ended = event ("stream_ended", id);
  g_assert_cmpuint (ended->status, ==, 200);
  g_assert_false (test_json_bool (ended, "data.stream.is_live"));
  g_assert_true (test_json_bool (ended, "data.stream.is_vod"));
  g_assert_true (g_str_has_suffix (test_json_string (ended, "data.stream.stream_url"), suffix));
}

static void
test_restart_after_end (void)
{
  g_autofree char *uid = NULL;
  g_autofree char *token = test_register_user (ts, "restart", &uid);
  g_autofree char *id = test_create_stream (ts, token, "Again");
  g_autoptr(TestResponse) again = NULL;
  const char *live_id;

  {
    g_autoptr(TestResponse) r = event ("stream_started", id);
    g_assert_cmpuint (r->status, ==, 200);
  }
  {
    g_autoptr(TestResponse) r = event ("stream_ended", id);
    g_assert_cmpuint (r->status, ==, 200);
  }

  /* Starting an ended broadcast starts a new one (same owner and title);
   * the answer is the live one, so that the ingest can follow it. */
  again = event ("stream_started", id);
  g_assert_cmpuint (again->status, ==, 200);
  g_assert_true (test_json_bool (again, "data.stream.is_live"));
  live_id = test_json_string (again, "data.stream.id");
  g_assert_cmpstr (live_id, !=, id);
  g_assert_cmpstr (test_json_string (again, "data.stream.title"), ==, "Again");
  g_assert_cmpstr (test_json_string (again, "data.stream.user_id"), ==, uid);
  {
    g_autoptr(TestResponse) r = get_stream (id);

    g_assert_false (test_json_bool (r, "data.stream.is_live"));
    g_assert_nonnull (test_json_string (r, "data.stream.ended_at"));
  }

  /* The ingest ends it by its new id. */
  {
    g_autoptr(TestResponse) r = event ("stream_ended", live_id);

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_false (test_json_bool (r, "data.stream.is_live"));
  }

  /* The first row gave its key away: it cannot start a broadcast again
   * (that would make a live row with no key); its successor can. */
  {
    g_autoptr(TestResponse) old = event ("stream_started", id);
    g_autoptr(TestResponse) next = event ("stream_started", live_id);

    test_assert_error (old, 409, "conflict");
    g_assert_cmpuint (next->status, ==, 200);
    g_assert_true (test_json_bool (next, "data.stream.is_live"));
    g_assert_cmpstr (test_json_string (next, "data.stream.id"), !=, live_id);
  }
}

typedef struct {
  char  *stream_id;
  char  *viewer_id;
  guint  joined;
} ViewerSeen;

static void
on_viewer_joined (VezaServer *server,
                  const char *stream_id,
                  const char *viewer_id,
                  ViewerSeen *seen)
{
  g_free (seen->stream_id);
  g_free (seen->viewer_id);
  seen->stream_id = g_strdup (stream_id);
  seen->viewer_id = g_strdup (viewer_id);
  seen->joined++;
}

static void
test_listeners (void)
{
  g_autofree char *id = new_stream ("listen");

  {
    g_autoptr(TestResponse) r = event ("stream_started", id);
    g_assert_cmpuint (r->status, ==, 200);
    g_assert_cmpint (test_json_int (r, "data.stream.viewer_count"), ==, 0);
  }
  {
    g_autoptr(TestResponse) r = event ("listener_joined", id);

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_cmpint (test_json_int (r, "data.stream.viewer_count"), ==, 1);
  }
  {
    g_autoptr(TestResponse) r = event ("listener_joined", id);
    g_assert_cmpint (test_json_int (r, "data.stream.viewer_count"), ==, 2);
  }
  g_assert_cmpint (viewers (id), ==, 2);
  {
    g_autofree char *upper = g_ascii_strup (id, -1);
    g_assert_cmpint (viewers (upper), ==, 2);
  }
  {
    g_autoptr(TestResponse) r = get_stream (id);
    g_assert_cmpint (test_json_int (r, "data.stream.viewer_count"), ==, 2);
  }
  {
    g_autoptr(TestResponse) r = event ("listener_left", id);
    g_assert_cmpint (test_json_int (r, "data.stream.viewer_count"), ==, 1);
  }
  /* Never below zero */
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(TestResponse) r = event ("listener_left", id);

      g_assert_cmpuint (r->status, ==, 200);
      g_assert_cmpint (test_json_int (r, "data.stream.viewer_count"), ==, 0);
    }
  g_assert_cmpint (viewers (id), ==, 0);
  {
    g_autoptr(TestResponse) r = event ("listener_joined", id);
    g_assert_cmpint (test_json_int (r, "data.stream.viewer_count"), ==, 1);
  }
  /* A listener id may be given; the server tells its plugins (chat rooms,
   * metrics) under the stream's own id even when spelt in capitals. */
  {
    g_autofree char *upper = g_ascii_strup (id, -1);
    g_autofree char *body = g_strdup_printf ("{\"event\":\"listener_joined\",\"stream_id\":\"%s\","
                                             "\"listener_id\":\"edge-42\"}", upper);
    ViewerSeen seen = { 0 };
    gulong handler = g_signal_connect (ts->server, "viewer-joined",
                                       G_CALLBACK (on_viewer_joined), &seen);
    g_autoptr(TestResponse) r = raw_event (body);

    g_signal_handler_disconnect (ts->server, handler);
    g_assert_cmpuint (r->status, ==, 200);
    g_assert_cmpint (test_json_int (r, "data.stream.viewer_count"), ==, 2);
    g_assert_cmpuint (seen.joined, ==, 1);
    g_assert_cmpstr (seen.stream_id, ==, id);
    g_assert_cmpstr (seen.viewer_id, ==, "edge-42");
    g_free (seen.stream_id);
    g_free (seen.viewer_id);
  }

  /* The end resets the count, and listeners of a stream that is not live
   * count for nothing. */
  {
    g_autoptr(TestResponse) r = event ("stream_ended", id);

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_cmpint (test_json_int (r, "data.stream.viewer_count"), ==, 0);
  }
  {
    g_autoptr(TestResponse) r = event ("listener_joined", id);

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_cmpint (test_json_int (r, "data.stream.viewer_count"), ==, 0);
  }
  g_assert_cmpint (viewers (id), ==, 0);
}

static void
test_bad_events (void)
{
  g_autofree char *id = new_stream ("bad");
  g_autofree char *unknown_event = g_strdup_printf ("{\"event\":\"stream_paused\",\"stream_id\":\"%s\"}", id);
  g_autofree char *no_event = g_strdup_printf ("{\"stream_id\":\"%s\"}", id);
  g_autofree char *event_number = g_strdup_printf ("{\"event\":5,\"stream_id\":\"%s\"}", id);
  g_autofree char *bad_listener = g_strdup_printf ("{\"event\":\"listener_joined\",\"stream_id\":\"%s\","
                                                   "\"listener_id\":7}", id);
  const char *bodies[] = {
    unknown_event,
    no_event,
    event_number,
    bad_listener,
    "{\"event\":\"stream_started\"}",
    "{\"event\":\"stream_started\",\"stream_id\":\"abc\"}",
    "{\"event\":\"stream_started\",\"stream_id\":\"00000000-0000-0000-0000-00000000000z\"}",
    "{\"event\":\"stream_started\",\"stream_id\":5}",
    "{\"event\":\"stream_started\",\"stream_id\":null}",
    "{\"event\":\"stream_started\"",
    "[\"stream_started\"]",
    "",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr(TestResponse) r = raw_event (bodies[i]);

      g_test_message ("body %s", bodies[i]);
      test_assert_error (r, 400, "invalid_request");
    }
  {
    g_autoptr(TestResponse) r = get_stream (id);
    g_assert_false (test_json_bool (r, "data.stream.is_live"));
  }

  /* A well-formed id of no stream */
  {
    const char *events[] = { "stream_started", "stream_ended", "listener_joined", "listener_left" };

    for (guint i = 0; i < G_N_ELEMENTS (events); i++)
      {
        g_autoptr(TestResponse) r = event (events[i], "00000000-0000-4000-8000-000000000000");

        g_test_message ("%s", events[i]);
        test_assert_error (r, 404, "not_found");
      }
  }
}

static void
test_uppercase_id (void)
{
  g_autofree char *id = new_stream ("upper");
  g_autofree char *upper = g_ascii_strup (id, -1);
  g_autoptr(TestResponse) again = NULL;

  {
    g_autoptr(TestResponse) r = event ("stream_started", upper);

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_cmpstr (test_json_string (r, "data.stream.id"), ==, id);
  }
  {
    /* The same stream however its id is spelt */
    g_autoptr(TestResponse) r = event ("stream_started", id);
    test_assert_error (r, 409, "conflict");
  }
  {
    g_autoptr(TestResponse) r = event ("stream_ended", upper);

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_false (test_json_bool (r, "data.stream.is_live"));
  }
  /* The broadcast is really over here too: it can start again. */
  again = event ("stream_started", id);
  g_assert_cmpuint (again->status, ==, 200);
  g_assert_true (test_json_bool (again, "data.stream.is_live"));
  {
    g_autoptr(TestResponse) r = event ("stream_ended", test_json_string (again, "data.stream.id"));
    g_assert_cmpuint (r->status, ==, 200);
  }
}

/* ---- nginx-rtmp callbacks ----------------------------------------------- */

static void
test_on_publish (void)
{
  g_autofree char *token = test_register_user (ts, "edge", NULL);
  g_autoptr(TestResponse) key = test_request (ts, "GET", STREAMS "/me/key", token, NULL, NULL);
  const char *stream_key = test_json_string (key, "data.stream_key");
  const char *stream_id = test_json_string (key, "data.stream_id");
  g_autofree char *good = g_strdup_printf ("call=publish&app=live&name=%s&addr=192.0.2.10", stream_key);
  g_autofree char *in_query = g_strdup_printf ("/internal/rtmp/on_publish?token=%s&name=%s",
                                               INTERNAL_TOKEN, stream_key);

  g_assert_cmpuint (key->status, ==, 200);

  /* A valid key: allowed (no tcurl, so nothing is pulled) */
  {
    g_autoptr(TestResponse) r = NULL;

    g_test_expect_message ("veza", G_LOG_LEVEL_MESSAGE, "edge publish accepted*");
    g_test_expect_message ("veza", G_LOG_LEVEL_WARNING, "*did not say where it is*");
    r = callback ("on_publish", INTERNAL_TOKEN, good);
    g_test_assert_expected_messages ();
    g_assert_cmpuint (r->status, >=, 200);
    g_assert_cmpuint (r->status, <, 300);
    /* The key never comes back in the answer. */
    g_assert_null (strstr (r->body, stream_key));
  }
  /* nginx-rtmp may also put the fields in the query string */
  {
    const char *headers[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
    g_autoptr(TestResponse) r = NULL;

    g_test_expect_message ("veza", G_LOG_LEVEL_MESSAGE, "edge publish accepted*");
    g_test_expect_message ("veza", G_LOG_LEVEL_WARNING, "*did not say where it is*");
    r = test_request_full (ts, "POST", in_query, headers, "", 0);
    g_test_assert_expected_messages ();
    g_assert_cmpuint (r->status, ==, 200);
  }
  /* The stream is not made live by the callback alone. */
  {
    g_autoptr(TestResponse) r = get_stream (stream_id);
    g_assert_false (test_json_bool (r, "data.stream.is_live"));
  }

  /* An unknown key */
  {
    g_autoptr(TestResponse) r = callback ("on_publish", INTERNAL_TOKEN,
                                          "app=live&name=live_0000000000000000000000000000000000000000"
                                          "&addr=192.0.2.11");
    test_assert_error (r, 403, "forbidden");
  }
  /* Without the secret, or with a wrong one: refused even for a valid key */
  {
    g_autoptr(TestResponse) r = callback ("on_publish", NULL, good);
    test_assert_error (r, 403, "forbidden");
  }
  {
    g_autoptr(TestResponse) r = callback ("on_publish", "wrong", good);
    test_assert_error (r, 403, "forbidden");
  }
  {
    g_autoptr(TestResponse) r = callback ("on_publish", "", good);
    test_assert_error (r, 403, "forbidden");
  }
  /* No key at all, or one with a slash */
  {
    g_autoptr(TestResponse) r = callback ("on_publish", INTERNAL_TOKEN, "app=live");
    test_assert_error (r, 400, "invalid_request");
  }
  {
    g_autoptr(TestResponse) r = callback ("on_publish", INTERNAL_TOKEN, "app=live&name=a%2Fb");
    test_assert_error (r, 400, "invalid_request");
  }

  /* The end of the edge's publish: 200 whatever the state */
  {
    g_autoptr(TestResponse) r = callback ("on_publish_done", INTERNAL_TOKEN, good);
    g_assert_cmpuint (r->status, ==, 200);
  }
  {
    g_autoptr(TestResponse) r = callback ("on_publish_done", INTERNAL_TOKEN,
                                          "app=live&name=live_unknown");
    g_assert_cmpuint (r->status, ==, 200);
  }
  {
    g_autoptr(TestResponse) r = callback ("on_publish_done", NULL, good);
    test_assert_error (r, 403, "forbidden");
  }
  {
    g_autoptr(TestResponse) r = callback ("on_publish_done", "wrong", good);
    test_assert_error (r, 403, "forbidden");
  }
  {
    g_autoptr(TestResponse) r = callback ("on_publish_done", INTERNAL_TOKEN, "app=live");
    test_assert_error (r, 400, "invalid_request");
  }
}

int
main (int argc, char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  ts = test_server_new (configure);

  g_test_add_func ("/veza/internal/token/disabled", test_disabled_without_token);
  g_test_add_func ("/veza/internal/token/wrong", test_wrong_token);
  g_test_add_func ("/veza/internal/events/lifecycle", test_lifecycle);
  g_test_add_func ("/veza/internal/events/vod", test_vod);
  g_test_add_func ("/veza/internal/events/restart", test_restart_after_end);
  g_test_add_func ("/veza/internal/events/listeners", test_listeners);
  g_test_add_func ("/veza/internal/events/bad", test_bad_events);
  g_test_add_func ("/veza/internal/events/uppercase-id", test_uppercase_id);
  g_test_add_func ("/veza/internal/rtmp/on-publish", test_on_publish);

  ret = g_test_run ();
  test_server_free (ts);
  return ret;
}
