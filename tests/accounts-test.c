/* accounts-test.c — register, login, logout, me and the login limits
 *
 * One in-process server (embedded PostgreSQL) for the whole suite. Failed
 * logins count per account and per address (all of ours come from
 * 127.0.0.1), so the tests that fail logins on purpose clear the record
 * when they are done.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "test-utils.h"

#include <string.h>

#define PASSWORD "correct horse"

static TestServer *ts;

/* ---- helpers ------------------------------------------------------------ */

static char *
unique_name (const char *prefix)
{
  static guint counter;

  return g_strdup_printf ("%s%u", prefix, counter++);
}

static TestResponse *
post_json (const char *path,
           const char *body)
{
  return test_request (ts, "POST", path, NULL, body, NULL);
}

static TestResponse *
register_user (const char *username,
               const char *password,
               const char *display_name)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *body = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "username");
  json_builder_add_string_value (b, username);
  json_builder_set_member_name (b, "password");
  json_builder_add_string_value (b, password);
  if (display_name != NULL)
    {
      json_builder_set_member_name (b, "display_name");
      json_builder_add_string_value (b, display_name);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  body = json_generator_to_data (gen, NULL);
  return post_json ("/api/v1/auth/register", body);
}

static TestResponse *
login (const char *username,
       const char *password)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *body = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "username");
  json_builder_add_string_value (b, username);
  json_builder_set_member_name (b, "password");
  json_builder_add_string_value (b, password);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  body = json_generator_to_data (gen, NULL);
  return post_json ("/api/v1/auth/login", body);
}

static TestResponse *
me (const char *token)
{
  return test_request (ts, "GET", "/api/v1/auth/me", token, NULL, NULL);
}

/* Registers @username with PASSWORD and returns the token. */
static char *
register_ok (const char *username)
{
  g_autoptr(TestResponse) r = register_user (username, PASSWORD, NULL);

  if (r->status != 201)
    g_printerr ("unexpected answer %u: %s\n", r->status, r->body);
  g_assert_cmpuint (r->status, ==, 201);
  return g_strdup (test_json_string (r, "data.token"));
}

static gint64
count_users (void)
{
  g_autofree char *n = test_db_value (ts, "SELECT count (*) AS value FROM users", 0, NULL);

  return g_ascii_strtoll (n, NULL, 10);
}

static gboolean
user_exists (const char *username)
{
  const char *params[1] = { username };
  g_autofree char *n = test_db_value (ts, "SELECT count (*) AS value FROM users"
                                      " WHERE lower (username) = lower ($1)", 1, params);

  return g_ascii_strtoll (n, NULL, 10) > 0;
}

static void
clear_login_failures (void)
{
  g_free (test_db_value (ts, "DELETE FROM login_failures", 0, NULL));
}

/* RFC 3339 in UTC with a Z, as the server writes times */
static GDateTime *
assert_utc_time (const char *text)
{
  GDateTime *t;

  g_assert_nonnull (text);
  g_assert_true (g_str_has_suffix (text, "Z"));
  g_assert_cmpint (text[10], ==, 'T');
  t = g_date_time_new_from_iso8601 (text, NULL);
  g_assert_nonnull (t);
  return t;
}

static void
assert_user_shape (TestResponse *r,
                   const char   *prefix,
                   const char   *username,
                   const char   *display_name)
{
  g_autofree char *id = g_strconcat (prefix, "id", NULL);
  g_autofree char *name = g_strconcat (prefix, "username", NULL);
  g_autofree char *display = g_strconcat (prefix, "display_name", NULL);
  g_autofree char *created = g_strconcat (prefix, "created_at", NULL);
  g_autoptr(GDateTime) created_at = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  JsonNode *user = test_json_node (r, prefix[0] != '\0' ? "data.user" : "data");

  g_assert_nonnull (user);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (user));
  /* Exactly the public fields: no hash, no internal columns. */
  g_assert_cmpuint (json_object_get_size (json_node_get_object (user)), ==, 4);
  g_assert_true (g_uuid_string_is_valid (test_json_string (r, id)));
  g_assert_cmpstr (test_json_string (r, name), ==, username);
  g_assert_cmpstr (test_json_string (r, display), ==, display_name);
  created_at = assert_utc_time (test_json_string (r, created));
  g_assert_cmpint (ABS (g_date_time_difference (now, created_at)), <, 120 * G_USEC_PER_SEC);
}

static void
assert_session_shape (TestResponse *r,
                      const char   *username,
                      const char   *display_name)
{
  const char *token = test_json_string (r, "data.token");
  g_autoptr(GDateTime) expires = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  GTimeSpan ttl;

  g_assert_true (test_json_bool (r, "success"));
  assert_user_shape (r, "data.user.", username, display_name);
  g_assert_nonnull (token);
  expires = assert_utc_time (test_json_string (r, "data.expires_at"));
  /* The default lifetime is 30 days. */
  ttl = g_date_time_difference (expires, now);
  g_assert_cmpint (ttl, >, 29 * G_TIME_SPAN_DAY);
  g_assert_cmpint (ttl, <=, 30 * G_TIME_SPAN_DAY + G_TIME_SPAN_MINUTE);
}

/* ---- register ----------------------------------------------------------- */

static void
test_register_shape (void)
{
  g_autofree char *name = unique_name ("shape");
  g_autoptr(TestResponse) r = register_user (name, PASSWORD, NULL);
  g_autoptr(TestResponse) m = NULL;

  g_assert_cmpuint (r->status, ==, 201);
  g_assert_cmpstr (soup_message_headers_get_content_type (r->headers, NULL), ==,
                   "application/json");
  /* display_name defaults to the username */
  assert_session_shape (r, name, name);

  /* The token works at once, and me tells the same user. */
  m = me (test_json_string (r, "data.token"));
  g_assert_cmpuint (m->status, ==, 200);
  assert_user_shape (m, "data.user.", name, name);
  g_assert_cmpstr (test_json_string (m, "data.user.id"), ==, test_json_string (r, "data.user.id"));
}

static void
test_register_display_name (void)
{
  g_autofree char *name = unique_name ("display");
  g_autofree char *name2 = unique_name ("display");
  g_autofree char *long_display = g_strnfill (65, 'd');
  g_autoptr(TestResponse) r = register_user (name, PASSWORD, "Zoë the Streamer ✨");
  g_autoptr(TestResponse) m = NULL;
  g_autoptr(TestResponse) bad = NULL;

  g_assert_cmpuint (r->status, ==, 201);
  assert_session_shape (r, name, "Zoë the Streamer ✨");
  m = me (test_json_string (r, "data.token"));
  g_assert_cmpstr (test_json_string (m, "data.user.display_name"), ==, "Zoë the Streamer ✨");

  /* Too long (65 characters): refused, nothing made */
  bad = register_user (name2, PASSWORD, long_display);
  test_assert_error (bad, 400, "invalid_request");
  g_assert_false (user_exists (name2));
}

static void
test_register_username_rules (void)
{
  g_autofree char *too_long = g_strnfill (33, 'a');
  g_autofree char *longest = NULL;
  const char *bad[] = {
    "ab", "", "has space", "slash/name", "at@sign", "colon:name", "zoë", "tab\tname",
    "semi;colon", "quote'name", "percent%41",
  };
  gint64 before = count_users ();

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(TestResponse) r = register_user (bad[i], PASSWORD, NULL);

      g_test_message ("username “%s”", bad[i]);
      test_assert_error (r, 400, "invalid_request");
    }
  {
    g_autoptr(TestResponse) r = register_user (too_long, PASSWORD, NULL);
    test_assert_error (r, 400, "invalid_request");
  }
  g_assert_cmpint (count_users (), ==, before);

  /* The edges: 3 and 32 characters, every allowed punctuation. */
  {
    g_autoptr(TestResponse) r = register_user ("a-b", PASSWORD, NULL);

    g_assert_cmpuint (r->status, ==, 201);
    g_assert_cmpstr (test_json_string (r, "data.user.username"), ==, "a-b");
  }
  {
    g_autofree char *base = unique_name ("A.b-c_");
    g_autoptr(TestResponse) r = NULL;

    longest = g_strdup_printf ("%s%s", base, too_long);
    longest[32] = '\0';
    r = register_user (longest, PASSWORD, NULL);
    g_assert_cmpuint (r->status, ==, 201);
    g_assert_cmpstr (test_json_string (r, "data.user.username"), ==, longest);
  }
  g_assert_cmpint (count_users (), ==, before + 2);
}

static void
test_register_password_rules (void)
{
  g_autofree char *name = unique_name ("pw");
  g_autofree char *name2 = unique_name ("pw");
  g_autofree char *name3 = unique_name ("pw");
  g_autofree char *huge = g_strnfill (1025, 'p');

  {
    /* 7 characters */
    g_autoptr(TestResponse) r = register_user (name, "seven77", NULL);
    test_assert_error (r, 400, "invalid_request");
  }
  {
    g_autoptr(TestResponse) r = register_user (name, "", NULL);
    test_assert_error (r, 400, "invalid_request");
  }
  {
    g_autoptr(TestResponse) r = register_user (name, huge, NULL);
    test_assert_error (r, 400, "invalid_request");
  }
  g_assert_false (user_exists (name));

  {
    /* 8 characters exactly */
    g_autoptr(TestResponse) r = register_user (name, "eight888", NULL);
    g_assert_cmpuint (r->status, ==, 201);
  }
  {
    /* Characters, not bytes: 8 two-byte characters pass, 7 do not. */
    g_autoptr(TestResponse) r = register_user (name2, "ééééééé", NULL);
    g_autoptr(TestResponse) r2 = register_user (name3, "éééééééé", NULL);

    test_assert_error (r, 400, "invalid_request");
    g_assert_cmpuint (r2->status, ==, 201);
  }
  {
    g_autoptr(TestResponse) l = login (name3, "éééééééé");
    g_assert_cmpuint (l->status, ==, 200);
  }
}

static void
test_register_duplicate (void)
{
  g_autofree char *lower = unique_name ("bob");
  g_autofree char *upper = g_ascii_strup (lower, -1);
  g_autofree char *mixed = g_strdup (lower);
  g_autofree char *token = NULL;
  const char *variants[] = { lower, upper, mixed };

  mixed[0] = g_ascii_toupper (mixed[0]);
  token = register_ok (mixed);

  for (guint i = 0; i < G_N_ELEMENTS (variants); i++)
    {
      g_autoptr(TestResponse) r = register_user (variants[i], "another password", NULL);

      g_test_message ("username “%s”", variants[i]);
      test_assert_error (r, 409, "conflict");
    }
  {
    const char *params[1] = { lower };
    g_autofree char *n = test_db_value (ts, "SELECT count (*) AS value FROM users"
                                        " WHERE lower (username) = lower ($1)", 1, params);
    g_assert_cmpstr (n, ==, "1");
  }
  /* The first owner keeps the name and the password. */
  {
    g_autoptr(TestResponse) l = login (mixed, PASSWORD);
    g_assert_cmpuint (l->status, ==, 200);
  }
}

static void
test_register_bad_bodies (void)
{
  g_autofree char *name = unique_name ("badbody");
  g_autofree char *s = NULL;
  const char *bodies[] = {
    "{\"username\": 5, \"password\": \"" PASSWORD "\"}",
    "{\"username\": \"@NAME@\", \"password\": 12345678}",
    "{\"username\": \"@NAME@\", \"password\": true}",
    "{\"username\": [\"@NAME@\"], \"password\": \"" PASSWORD "\"}",
    "{\"username\": {\"a\": 1}, \"password\": \"" PASSWORD "\"}",
    "{\"username\": null, \"password\": \"" PASSWORD "\"}",
    "{\"username\": \"@NAME@\", \"password\": null}",
    "{\"username\": \"@NAME@\", \"password\": \"" PASSWORD "\", \"display_name\": 5}",
    "{\"username\": \"@NAME@\", \"password\": \"" PASSWORD "\", \"display_name\": \"\"}",
    "{\"password\": \"" PASSWORD "\"}",
    "{\"username\": \"@NAME@\"}",
    "{}",
    "{\"username\": \"@NAME@\", \"password\": \"" PASSWORD "\"",
    "{\"username\": \"@NAME@\", \"password\": \"" PASSWORD "\",}",
    "username=@NAME@&password=correct+horse",
    "[{\"username\": \"@NAME@\", \"password\": \"" PASSWORD "\"}]",
    "[]",
    "\"@NAME@\"",
    "null",
    "42",
    "",
  };
  gint64 before = count_users ();

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_auto(GStrv) parts = g_strsplit (bodies[i], "@NAME@", -1);
      g_autofree char *body = g_strjoinv (name, parts);
      g_autoptr(TestResponse) r = NULL;

      g_test_message ("body %s", body);
      /* An empty body is sent with Content-Length: 0. */
      r = test_request_full (ts, "POST", "/api/v1/auth/register", NULL, body, strlen (body));
      test_assert_error (r, 400, "invalid_request");
    }

  /* No body at all */
  {
    g_autoptr(TestResponse) r = test_request (ts, "POST", "/api/v1/auth/register", NULL, NULL, NULL);
    test_assert_error (r, 400, "invalid_request");
  }
  /* A NUL byte inside the body */
  {
    static const char with_nul[] = "{\"username\": \"nul\0name\", \"password\": \"" PASSWORD "\"}";
    g_autoptr(TestResponse) r = test_request_full (ts, "POST", "/api/v1/auth/register", NULL,
                                                   with_nul, sizeof with_nul - 1);
    test_assert_error (r, 400, "invalid_request");
  }

  g_assert_cmpint (count_users (), ==, before);
  g_assert_false (user_exists (name));
  {
    g_autoptr(TestResponse) l = login (name, PASSWORD);
    test_assert_error (l, 401, "unauthorized");
  }
  clear_login_failures ();

  /* Unknown fields are ignored. */
  s = g_strdup_printf ("{\"username\": \"%s\", \"password\": \"" PASSWORD "\","
                       " \"role\": \"admin\", \"id\": \"00000000-0000-0000-0000-000000000000\"}",
                       name);
  {
    g_autoptr(TestResponse) r = post_json ("/api/v1/auth/register", s);

    g_assert_cmpuint (r->status, ==, 201);
    g_assert_cmpstr (test_json_string (r, "data.user.id"), !=,
                     "00000000-0000-0000-0000-000000000000");
    g_assert_null (test_json_node (r, "data.user.role"));
  }
}

/* ---- login -------------------------------------------------------------- */

static void
test_login_ok (void)
{
  g_autofree char *name = unique_name ("login");
  g_autofree char *upper = g_ascii_strup (name, -1);
  g_autofree char *first = register_ok (name);
  g_autoptr(TestResponse) r = login (name, PASSWORD);
  g_autoptr(TestResponse) r2 = NULL;
  const char *token;

  g_assert_cmpuint (r->status, ==, 200);
  assert_session_shape (r, name, name);
  token = test_json_string (r, "data.token");
  g_assert_cmpstr (token, !=, first);

  /* Both sessions work side by side. */
  {
    g_autoptr(TestResponse) a = me (first);
    g_autoptr(TestResponse) b = me (token);

    g_assert_cmpuint (a->status, ==, 200);
    g_assert_cmpuint (b->status, ==, 200);
    g_assert_cmpstr (test_json_string (a, "data.user.id"), ==, test_json_string (b, "data.user.id"));
  }

  /* The username is matched without regard to case; the answer gives the
   * name as registered. */
  r2 = login (upper, PASSWORD);
  g_assert_cmpuint (r2->status, ==, 200);
  g_assert_cmpstr (test_json_string (r2, "data.user.username"), ==, name);
  g_assert_cmpstr (test_json_string (r2, "data.token"), !=, token);
}

static void
test_login_bad_bodies (void)
{
  const char *bodies[] = {
    "{\"username\": 5, \"password\": \"" PASSWORD "\"}",
    "{\"username\": \"someone\"}",
    "{\"password\": \"" PASSWORD "\"}",
    "{\"username\": \"someone\", \"password\": \"" PASSWORD "\"",
    "[\"someone\", \"" PASSWORD "\"]",
    "",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr(TestResponse) r = test_request_full (ts, "POST", "/api/v1/auth/login", NULL,
                                                     bodies[i], strlen (bodies[i]));

      g_test_message ("body %s", bodies[i]);
      test_assert_error (r, 400, "invalid_request");
    }
  /* Malformed requests are not failed logins. */
  {
    g_autofree char *n = test_db_value (ts, "SELECT count (*) AS value FROM login_failures"
                                        " WHERE username = 'someone'", 0, NULL);
    g_assert_cmpstr (n, ==, "0");
  }
}

static void
test_login_wrong_credentials (void)
{
  g_autofree char *name = unique_name ("wrong");
  g_autofree char *nobody = unique_name ("nobody");
  g_autofree char *token = register_ok (name);
  g_autoptr(TestResponse) wrong_password = login (name, "not the password");
  g_autoptr(TestResponse) unknown_user = login (nobody, PASSWORD);
  g_autoptr(TestResponse) empty_password = login (name, "");

  g_assert_nonnull (token);
  test_assert_error (wrong_password, 401, "unauthorized");
  test_assert_error (unknown_user, 401, "unauthorized");
  /* The same answer, so that it does not tell which usernames exist. */
  g_assert_cmpstr (wrong_password->body, ==, unknown_user->body);
  g_assert_null (test_json_node (wrong_password, "data"));

  /* An empty password is a malformed request, for any username. */
  test_assert_error (empty_password, 400, "invalid_request");

  clear_login_failures ();
}

/* ---- logout, me --------------------------------------------------------- */

static void
test_logout (void)
{
  g_autofree char *name = unique_name ("logout");
  g_autofree char *token = register_ok (name);
  g_autoptr(TestResponse) l = login (name, PASSWORD);
  const char *other = test_json_string (l, "data.token");

  {
    g_autoptr(TestResponse) r = test_request (ts, "POST", "/api/v1/auth/logout", token, NULL, NULL);

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_true (test_json_bool (r, "success"));
  }
  {
    g_autoptr(TestResponse) r = me (token);
    test_assert_error (r, 401, "unauthorized");
  }
  /* Logging out again with the dead token: 401 */
  {
    g_autoptr(TestResponse) r = test_request (ts, "POST", "/api/v1/auth/logout", token, NULL, NULL);
    test_assert_error (r, 401, "unauthorized");
  }
  /* The other session of the same user is untouched. */
  {
    g_autoptr(TestResponse) r = me (other);
    g_assert_cmpuint (r->status, ==, 200);
  }
  /* No token at all */
  {
    g_autoptr(TestResponse) r = test_request (ts, "POST", "/api/v1/auth/logout", NULL, NULL, NULL);
    test_assert_error (r, 401, "unauthorized");
  }
}

static void
test_me_unauthorized (void)
{
  g_autofree char *unknown = g_strnfill (43, 'A');
  g_autofree char *name = unique_name ("metok");
  g_autofree char *token = register_ok (name);
  g_autofree char *bearer_lower = g_strconcat ("Authorization: bearer ", token, NULL);
  g_autofree char *basic = g_strconcat ("Authorization: Basic ", token, NULL);
  g_autofree char *with_suffix = g_strconcat (token, "x", NULL);
  g_autofree char *truncated = g_strndup (token, strlen (token) - 1);
  const char *tokens[] = {
    "garbage", unknown, with_suffix, truncated, "' OR '1'='1", "%00",
  };

  {
    g_autoptr(TestResponse) r = me (NULL);

    test_assert_error (r, 401, "unauthorized");
    g_assert_cmpstr (soup_message_headers_get_one (r->headers, "WWW-Authenticate"), ==, "Bearer");
  }
  for (guint i = 0; i < G_N_ELEMENTS (tokens); i++)
    {
      g_autoptr(TestResponse) r = me (tokens[i]);

      g_test_message ("token %s", tokens[i]);
      test_assert_error (r, 401, "unauthorized");
    }
  {
    const char *headers[] = { "Authorization: Bearer", NULL };
    g_autoptr(TestResponse) r = test_request_full (ts, "GET", "/api/v1/auth/me", headers, NULL, 0);

    test_assert_error (r, 401, "unauthorized");
  }
  {
    const char *headers[] = { "Authorization: Bearer    ", NULL };
    g_autoptr(TestResponse) r = test_request_full (ts, "GET", "/api/v1/auth/me", headers, NULL, 0);

    test_assert_error (r, 401, "unauthorized");
  }
  {
    const char *headers[] = { basic, NULL };
    g_autoptr(TestResponse) r = test_request_full (ts, "GET", "/api/v1/auth/me", headers, NULL, 0);

    test_assert_error (r, 401, "unauthorized");
  }
  /* The scheme is case-insensitive (RFC 7235). */
  {
    const char *headers[] = { bearer_lower, NULL };
    g_autoptr(TestResponse) r = test_request_full (ts, "GET", "/api/v1/auth/me", headers, NULL, 0);

    g_assert_cmpuint (r->status, ==, 200);
  }
}

static void
test_session_expiry (void)
{
  g_autofree char *name = unique_name ("expiry");
  g_autofree char *token = register_ok (name);
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
  const char *params[1] = { hash };

  {
    g_autoptr(TestResponse) r = me (token);
    g_assert_cmpuint (r->status, ==, 200);
  }
  g_free (test_db_value (ts, "UPDATE sessions SET expires_at = now () - interval '1 second'"
                         " WHERE token_hash = decode ($1, 'hex')", 1, params));
  {
    g_autoptr(TestResponse) r = me (token);
    test_assert_error (r, 401, "unauthorized");
  }
}

/* ---- secrets at rest ---------------------------------------------------- */

static void
test_token_storage (void)
{
  g_autofree char *name = unique_name ("storage");
  g_autoptr(TestResponse) r = register_user (name, PASSWORD, NULL);
  const char *token = test_json_string (r, "data.token");
  const char *user_id = test_json_string (r, "data.user.id");
  const char *params[1] = { user_id };
  g_autofree char *stored = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *password_hash = NULL;
  g_autofree char *n = NULL;

  g_assert_cmpuint (r->status, ==, 201);
  /* ≥ 128 bits: at least 22 characters of URL-safe base64 */
  g_assert_cmpuint (strlen (token), >=, 22);
  for (const char *p = token; *p != '\0'; p++)
    g_assert_true (g_ascii_isalnum (*p) || *p == '-' || *p == '_');

  stored = test_db_value (ts, "SELECT encode (token_hash, 'hex') AS value FROM sessions"
                          " WHERE user_id = $1", 1, params);
  g_assert_nonnull (stored);
  g_assert_cmpstr (stored, !=, token);
  g_assert_null (strstr (stored, token));
  expected = g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
  g_assert_cmpstr (stored, ==, expected);

  /* The token itself appears nowhere in the table. */
  {
    const char *p2[1] = { token };

    n = test_db_value (ts, "SELECT count (*) AS value FROM sessions s"
                       " WHERE position (convert_to ($1, 'UTF8') IN s.token_hash) > 0"
                       "    OR s.last_seen_address = $1", 1, p2);
    g_assert_cmpstr (n, ==, "0");
  }

  /* The password is kept as an argon2id hash only. */
  password_hash = test_db_value (ts, "SELECT password_hash AS value FROM users WHERE id = $1",
                                 1, params);
  g_assert_true (g_str_has_prefix (password_hash, "$argon2id$"));
  g_assert_null (strstr (password_hash, PASSWORD));

  /* Two sessions never share a token. */
  {
    g_autoptr(TestResponse) l = login (name, PASSWORD);
    g_assert_cmpstr (test_json_string (l, "data.token"), !=, token);
  }
}

/* ---- limits ------------------------------------------------------------- */

static void
assert_rate_limited (TestResponse *r)
{
  const char *retry;
  guint64 seconds = 0;

  test_assert_error (r, 429, "rate_limited");
  retry = soup_message_headers_get_one (r->headers, "Retry-After");
  g_assert_nonnull (retry);
  g_assert_true (g_ascii_string_to_unsigned (retry, 10, 1, 15 * 60, &seconds, NULL));
  g_assert_cmpuint (seconds, >, 0);
}

static void
test_rate_limit_account (void)
{
  g_autofree char *name = unique_name ("limited");
  g_autofree char *other = unique_name ("bystander");
  g_autofree char *upper = g_ascii_strup (name, -1);
  g_autofree char *token = register_ok (name);
  g_autofree char *other_token = register_ok (other);

  g_assert_nonnull (other_token);
  clear_login_failures ();
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(TestResponse) r = login (name, "not the password");
      test_assert_error (r, 401, "unauthorized");
    }
  {
    g_autoptr(TestResponse) r = login (name, "not the password");
    assert_rate_limited (r);
  }
  /* Even the right password is refused while the account is limited, and
   * another spelling of the same name is the same account. */
  {
    g_autoptr(TestResponse) r = login (name, PASSWORD);
    assert_rate_limited (r);
  }
  {
    g_autoptr(TestResponse) r = login (upper, PASSWORD);
    assert_rate_limited (r);
  }
  /* Sessions already open keep working; other accounts are not limited. */
  {
    g_autoptr(TestResponse) r = me (token);
    g_assert_cmpuint (r->status, ==, 200);
  }
  {
    g_autoptr(TestResponse) r = login (other, PASSWORD);
    g_assert_cmpuint (r->status, ==, 200);
  }
  /* Refused attempts are not counted as failures (no extension of the ban
   * by hammering). */
  {
    const char *params[1] = { name };
    g_autofree char *n = test_db_value (ts, "SELECT count (*) AS value FROM login_failures"
                                        " WHERE lower (username) = lower ($1)", 1, params);
    g_assert_cmpstr (n, ==, "5");
  }

  clear_login_failures ();
  {
    g_autoptr(TestResponse) r = login (name, PASSWORD);
    g_assert_cmpuint (r->status, ==, 200);
  }
}

static void
test_rate_limit_success_clears (void)
{
  g_autofree char *name = unique_name ("clears");
  g_autofree char *token = register_ok (name);

  g_assert_nonnull (token);
  clear_login_failures ();
  /* 4 failures, a success, then 4 more: never limited, since a success
   * clears the account's record. */
  for (guint round = 0; round < 2; round++)
    {
      for (guint i = 0; i < 4; i++)
        {
          g_autoptr(TestResponse) r = login (name, "not the password");
          test_assert_error (r, 401, "unauthorized");
        }
      {
        g_autoptr(TestResponse) r = login (name, PASSWORD);
        g_assert_cmpuint (r->status, ==, 200);
      }
    }
  clear_login_failures ();
}

static void
test_rate_limit_address (void)
{
  g_autofree char *name = unique_name ("addr");
  g_autofree char *token = register_ok (name);
  guint failures = 0;

  clear_login_failures ();
  /* 30 failures from one address, spread over accounts (none of which
   * reaches its own limit of 5). */
  for (guint account = 0; failures < 30; account++)
    {
      g_autofree char *victim = unique_name ("victim");

      for (guint i = 0; i < 3 && failures < 30; i++, failures++)
        {
          g_autoptr(TestResponse) r = login (victim, "not the password");
          test_assert_error (r, 401, "unauthorized");
        }
    }
  {
    g_autoptr(TestResponse) r = login (name, PASSWORD);
    assert_rate_limited (r);
  }
  {
    g_autofree char *fresh = unique_name ("fresh");
    g_autoptr(TestResponse) r = login (fresh, "whatever it is");
    assert_rate_limited (r);
  }
  /* Registering and the open sessions are not affected. */
  {
    g_autoptr(TestResponse) r = me (token);
    g_assert_cmpuint (r->status, ==, 200);
  }
  clear_login_failures ();
  {
    g_autoptr(TestResponse) r = login (name, PASSWORD);
    g_assert_cmpuint (r->status, ==, 200);
  }
}

int
main (int argc, char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  ts = test_server_new (NULL);

  g_test_add_func ("/veza/accounts/register/shape", test_register_shape);
  g_test_add_func ("/veza/accounts/register/display-name", test_register_display_name);
  g_test_add_func ("/veza/accounts/register/username-rules", test_register_username_rules);
  g_test_add_func ("/veza/accounts/register/password-rules", test_register_password_rules);
  g_test_add_func ("/veza/accounts/register/duplicate", test_register_duplicate);
  g_test_add_func ("/veza/accounts/register/bad-bodies", test_register_bad_bodies);
  g_test_add_func ("/veza/accounts/login/ok", test_login_ok);
  g_test_add_func ("/veza/accounts/login/bad-bodies", test_login_bad_bodies);
  g_test_add_func ("/veza/accounts/login/wrong-credentials", test_login_wrong_credentials);
  g_test_add_func ("/veza/accounts/logout", test_logout);
  g_test_add_func ("/veza/accounts/me/unauthorized", test_me_unauthorized);
  g_test_add_func ("/veza/accounts/session/expiry", test_session_expiry);
  g_test_add_func ("/veza/accounts/token/storage", test_token_storage);
  g_test_add_func ("/veza/accounts/rate-limit/account", test_rate_limit_account);
  g_test_add_func ("/veza/accounts/rate-limit/success-clears", test_rate_limit_success_clears);
  g_test_add_func ("/veza/accounts/rate-limit/address", test_rate_limit_address);

  ret = g_test_run ();
  test_server_free (ts);
  return ret;
}
