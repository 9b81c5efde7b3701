/* veza-accounts.c — register, login, logout, me; bearer-token resolution
 *
 * Passwords are hashed with argon2id (libsodium) on a small dedicated thread
 * pool, so a burst of logins neither blocks the main loop nor takes all the
 * memory (each hash uses 64 MiB). Tokens are 256 random bits; the database
 * stores only their SHA-256. Failed logins are recorded in the database so
 * that the limits hold across nodes: 5 per account and 30 per address in 15
 * minutes, then 429 with Retry-After.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-accounts.h"
#include "veza-json.h"
#include "veza-secret.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#define USERNAME_MIN 3
#define USERNAME_MAX 32
#define PASSWORD_MIN 8
#define PASSWORD_MAX_BYTES 1024
#define DISPLAY_NAME_MAX 64
#define FAILURE_WINDOW "15 minutes"
#define MAX_FAILURES_PER_ACCOUNT 5
#define MAX_FAILURES_PER_ADDRESS 30

typedef struct {
  VezaServer  *server;
  GThreadPool *hash_pool;
  char        *dummy_hash;   /* verified against for unknown users, so that timing is alike */
  guint        purge_id;
} Accounts;

#define PURGE_INTERVAL_S (10 * 60)

/* ---- argon2id off the main loop ---------------------------------------- */

typedef struct {
  char     *password;
  char     *hash;      /* to verify against; NULL to create a new hash */
} HashJob;

static void
hash_job_free (HashJob *job)
{
  if (job->password != NULL)
    {
      sodium_memzero (job->password, strlen (job->password));
      g_free (job->password);
    }
  g_free (job->hash);
  g_free (job);
}

static void
hash_worker (gpointer data,
             gpointer pool_data)
{
  GTask *task = data;
  HashJob *job = g_task_get_task_data (task);

  if (job->hash == NULL)
    {
      char out[crypto_pwhash_STRBYTES];

      if (crypto_pwhash_str (out, job->password, strlen (job->password),
                             crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                                 "out of memory while hashing");
      else
        g_task_return_pointer (task, g_strdup (out), g_free);
    }
  else
    {
      gboolean ok = crypto_pwhash_str_verify (job->hash, job->password,
                                              strlen (job->password)) == 0;
      g_task_return_boolean (task, ok);
    }
  g_object_unref (task);
}

static void
password_job_async (Accounts            *acc,
                    const char          *password,
                    const char          *hash,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  HashJob *job = g_new0 (HashJob, 1);

  job->password = g_strdup (password);
  job->hash = g_strdup (hash);
  g_task_set_task_data (task, job, (GDestroyNotify) hash_job_free);
  g_thread_pool_push (acc->hash_pool, task, NULL);
}

/* ---- JSON -------------------------------------------------------------- */

void
veza_accounts_add_user_json (JsonBuilder  *b,
                             VezaDbResult *result,
                             int           row,
                             const char   *prefix)
{
  g_autofree char *id = g_strconcat (prefix, "id", NULL);
  g_autofree char *username = g_strconcat (prefix, "username", NULL);
  g_autofree char *display_name = g_strconcat (prefix, "display_name", NULL);
  g_autofree char *created_at = g_strconcat (prefix, "created_at", NULL);
  g_autofree char *created = veza_json_time_from_db (veza_db_result_get (result, row, created_at));

  json_builder_begin_object (b);
  veza_json_builder_add_string_or_null (b, "id", veza_db_result_get (result, row, id));
  veza_json_builder_add_string_or_null (b, "username", veza_db_result_get (result, row, username));
  veza_json_builder_add_string_or_null (b, "display_name",
                                        veza_db_result_get (result, row, display_name));
  veza_json_builder_add_string_or_null (b, "created_at", created);
  json_builder_end_object (b);
}

static JsonNode *
session_json (VezaDbResult *result,
              const char   *token)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *expires = veza_json_time_from_db (veza_db_result_get (result, 0, "expires_at"));

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "user");
  veza_accounts_add_user_json (b, result, 0, "");
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, token);
  veza_json_builder_add_string_or_null (b, "expires_at", expires);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---- sessions ---------------------------------------------------------- */

typedef struct {
  Accounts    *acc;
  VezaRequest *request;
  char        *user_id;
  char        *username;
  char        *display_name;
  char        *password;
  char        *token;
  guint        status;
} Op;

static Op *
op_new (Accounts    *acc,
        VezaRequest *request)
{
  Op *op = g_new0 (Op, 1);

  op->acc = acc;
  op->request = veza_request_ref (request);
  return op;
}

static void
op_free (Op *op)
{
  veza_request_unref (op->request);
  g_free (op->user_id);
  g_free (op->username);
  g_free (op->display_name);
  if (op->password != NULL)
    sodium_memzero (op->password, strlen (op->password));
  g_free (op->password);
  if (op->token != NULL)
    sodium_memzero (op->token, strlen (op->token));
  g_free (op->token);
  g_free (op);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Op, op_free)

static void
on_session_created (GObject      *source,
                    GAsyncResult *res,
                    gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) result = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (result == NULL)
    {
      veza_request_respond_db_error (op->request, error);
      return;
    }
  if (veza_db_result_n_rows (result) != 1)
    {
      /* The account was deleted between the two statements. */
      veza_request_respond_error (op->request, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                                  _("Wrong username or password"));
      return;
    }
  veza_request_respond_json (op->request, op->status, session_json (result, op->token));
}

static void
create_session (Op *op)
{
  VezaConfig *config = veza_server_get_config (op->acc->server);
  g_autofree char *hash = NULL;
  g_autofree char *ttl = g_strdup_printf ("%u", config->session_ttl);
  const char *params[4];

  op->token = veza_secret_new_token ();
  hash = veza_secret_hash (op->token);
  params[0] = op->user_id;
  params[1] = hash;
  params[2] = ttl;
  params[3] = veza_request_get_remote_address (op->request);

  veza_db_query_async (veza_server_get_db (op->acc->server),
                       "WITH s AS ("
                       "  INSERT INTO sessions (user_id, token_hash, expires_at, last_seen_address)"
                       "  SELECT u.id, decode ($2, 'hex'), now () + make_interval (secs => $3::int), $4"
                       "  FROM users u WHERE u.id = $1"
                       "  RETURNING user_id, expires_at)"
                       " SELECT u.id, u.username, u.display_name, u.created_at, s.expires_at"
                       " FROM s JOIN users u ON u.id = s.user_id",
                       4, params, NULL, on_session_created, op);
}

/* ---- register ---------------------------------------------------------- */

static gboolean
username_valid (const char *name)
{
  gsize len = strlen (name);

  if (len < USERNAME_MIN || len > USERNAME_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (name[i]) && name[i] != '_' && name[i] != '.' && name[i] != '-')
      return FALSE;
  return TRUE;
}

/* Reads username and password; answers 400 and returns FALSE on a problem. */
static gboolean
read_credentials (VezaRequest  *request,
                  JsonObject   *body,
                  const char  **username,
                  const char  **password,
                  gboolean      registering)
{
  g_autofree char *message = NULL;

  if (veza_json_get_string (body, "username", 1, 256, username, &message) != VEZA_FIELD_OK ||
      veza_json_get_string (body, "password", 1, PASSWORD_MAX_BYTES, password, &message) != VEZA_FIELD_OK)
    {
      veza_request_respond_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                                  message != NULL ? message
                                                  : _("username and password are required"));
      return FALSE;
    }
  if (strlen (*password) > PASSWORD_MAX_BYTES)
    {
      veza_request_respond_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                                  _("password is too long"));
      return FALSE;
    }
  if (registering)
    {
      if (!username_valid (*username))
        {
          veza_request_respond_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                                      _("username must be 3 to 32 of A-Z, a-z, 0-9, _ . -"));
          return FALSE;
        }
      if (g_utf8_strlen (*password, -1) < PASSWORD_MIN)
        {
          veza_request_respond_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                                      _("password must be at least 8 characters long"));
          return FALSE;
        }
    }
  return TRUE;
}

static void
on_user_inserted (GObject      *source,
                  GAsyncResult *res,
                  gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) result = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (result == NULL)
    {
      if (g_error_matches (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNIQUE))
        veza_request_respond_error (op->request, SOUP_STATUS_CONFLICT, "conflict",
                                    _("That username is taken"));
      else
        veza_request_respond_db_error (op->request, error);
      return;
    }

  op->user_id = g_strdup (veza_db_result_get (result, 0, "id"));
  op->status = SOUP_STATUS_CREATED;
  g_message ("account %s registered", op->user_id);
  create_session (g_steal_pointer (&op));
}

static void
on_password_hashed (GObject      *source,
                    GAsyncResult *res,
                    gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = g_task_propagate_pointer (G_TASK (res), &error);
  const char *params[3];
  VezaDb *db;

  if (hash == NULL)
    {
      g_warning ("password hashing failed: %s", error->message);
      veza_request_respond_error (op->request, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
                                  _("The server is busy; try again shortly"));
      return;
    }

  params[0] = op->username;
  params[1] = op->display_name;
  params[2] = hash;
  /* Arguments are evaluated in no set order: take what is needed from @op
   * before handing it over. */
  db = veza_server_get_db (op->acc->server);
  veza_db_query_async (db,
                       "INSERT INTO users (username, display_name, password_hash)"
                       " VALUES ($1, $2, $3) RETURNING id",
                       3, params, NULL, on_user_inserted, g_steal_pointer (&op));
}

static void
handle_register (VezaRequest *request,
                 gpointer     user_data)
{
  Accounts *acc = user_data;
  JsonObject *body = veza_request_get_json_object (request);
  const char *username = NULL, *password = NULL, *display_name = NULL;
  g_autofree char *message = NULL;
  Op *op;

  if (body == NULL || !read_credentials (request, body, &username, &password, TRUE))
    return;

  switch (veza_json_get_string (body, "display_name", 1, DISPLAY_NAME_MAX, &display_name, &message))
    {
    case VEZA_FIELD_INVALID:
      veza_request_respond_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_request", message);
      return;
    case VEZA_FIELD_OK:
      break;
    default:
      display_name = username;
    }

  op = op_new (acc, request);
  op->username = g_strdup (username);
  op->display_name = g_strdup (display_name);
  password_job_async (acc, password, NULL, on_password_hashed, op);
}

/* ---- login ------------------------------------------------------------- */

static void
on_failure_recorded (GObject      *source,
                     GAsyncResult *res,
                     gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) result = veza_db_query_finish (VEZA_DB (source), res, &error);

  /* Recording the failure is best effort: the answer is the same either way. */
  if (result == NULL)
    g_warning ("could not record a failed login: %s", error->message);

  veza_request_respond_error (op->request, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                              _("Wrong username or password"));
}

static void
record_failure (Op *op)
{
  const char *params[2] = { op->username, veza_request_get_remote_address (op->request) };

  veza_db_query_async (veza_server_get_db (op->acc->server),
                       "INSERT INTO login_failures (username, address) VALUES ($1, $2)",
                       2, params, NULL, on_failure_recorded, op);
}

static void
on_failures_cleared (GObject      *source,
                     GAsyncResult *res,
                     gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) result = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (result == NULL)
    {
      veza_request_respond_db_error (op->request, error);
      return;
    }
  op->status = SOUP_STATUS_OK;
  create_session (g_steal_pointer (&op));
}

static void
on_password_verified (GObject      *source,
                      GAsyncResult *res,
                      gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  gboolean ok = g_task_propagate_boolean (G_TASK (res), NULL);
  const char *params[1];
  VezaDb *db;

  if (!ok || op->user_id == NULL)
    {
      record_failure (g_steal_pointer (&op));
      return;
    }

  /* A successful login clears the account's failures. */
  params[0] = op->username;
  db = veza_server_get_db (op->acc->server);
  veza_db_query_async (db,
                       "DELETE FROM login_failures WHERE lower (username) = lower ($1)",
                       1, params, NULL, on_failures_cleared, g_steal_pointer (&op));
}

static void
on_login_user (GObject      *source,
               GAsyncResult *res,
               gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) result = veza_db_query_finish (VEZA_DB (source), res, &error);
  const char *hash;
  gint64 by_account, by_address;
  const char *retry;

  if (result == NULL)
    {
      veza_request_respond_db_error (op->request, error);
      return;
    }

  by_account = g_ascii_strtoll (veza_db_result_get (result, 0, "by_account"), NULL, 10);
  by_address = g_ascii_strtoll (veza_db_result_get (result, 0, "by_address"), NULL, 10);
  if (by_account >= MAX_FAILURES_PER_ACCOUNT || by_address >= MAX_FAILURES_PER_ADDRESS)
    {
      retry = by_account >= MAX_FAILURES_PER_ACCOUNT
              ? veza_db_result_get (result, 0, "retry_account")
              : veza_db_result_get (result, 0, "retry_address");
      veza_request_set_response_header (op->request, "Retry-After", retry != NULL ? retry : "60");
      veza_request_respond_error (op->request, 429, "rate_limited",
                                  _("Too many failed logins; try again later"));
      return;
    }

  op->user_id = g_strdup (veza_db_result_get (result, 0, "id"));
  hash = veza_db_result_get (result, 0, "password_hash");
  if (hash == NULL)
    hash = op->acc->dummy_hash;
  {
    Op *owned = g_steal_pointer (&op);
    password_job_async (owned->acc, owned->password, hash, on_password_verified, owned);
  }
}

static void
handle_login (VezaRequest *request,
              gpointer     user_data)
{
  Accounts *acc = user_data;
  JsonObject *body = veza_request_get_json_object (request);
  const char *username = NULL, *password = NULL;
  const char *params[2];
  Op *op;

  if (body == NULL || !read_credentials (request, body, &username, &password, FALSE))
    return;

  op = op_new (acc, request);
  op->username = g_strdup (username);
  op->password = g_strdup (password);

  params[0] = username;
  params[1] = veza_request_get_remote_address (request);
  /* One row always: the counts, and the user when there is one. */
  veza_db_query_async (veza_server_get_db (acc->server),
                       "WITH f AS (SELECT"
                       "   (SELECT count (*) FROM login_failures WHERE lower (username) = lower ($1)"
                       "      AND failed_at > now () - interval '" FAILURE_WINDOW "') AS by_account,"
                       "   (SELECT ceil (extract (epoch FROM min (failed_at) + interval '" FAILURE_WINDOW "' - now ()))::int"
                       "      FROM login_failures WHERE lower (username) = lower ($1)"
                       "      AND failed_at > now () - interval '" FAILURE_WINDOW "') AS retry_account,"
                       "   (SELECT count (*) FROM login_failures WHERE address = $2"
                       "      AND failed_at > now () - interval '" FAILURE_WINDOW "') AS by_address,"
                       "   (SELECT ceil (extract (epoch FROM min (failed_at) + interval '" FAILURE_WINDOW "' - now ()))::int"
                       "      FROM login_failures WHERE address = $2"
                       "      AND failed_at > now () - interval '" FAILURE_WINDOW "') AS retry_address)"
                       " SELECT f.*, u.id, u.password_hash FROM f"
                       " LEFT JOIN users u ON lower (u.username) = lower ($1)",
                       2, params, NULL, on_login_user, op);
}

/* ---- logout, me -------------------------------------------------------- */

static void
on_logged_out (GObject      *source,
               GAsyncResult *res,
               gpointer      user_data)
{
  g_autoptr(VezaRequest) request = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) result = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (result == NULL)
    veza_request_respond_db_error (request, error);
  else
    veza_request_respond_json (request, SOUP_STATUS_OK, NULL);
}

static void
handle_logout (VezaRequest *request,
               gpointer     user_data)
{
  Accounts *acc = user_data;
  g_autofree char *hash = veza_secret_hash (veza_request_get_bearer_token (request));
  const char *params[1] = { hash };

  veza_db_query_async (veza_server_get_db (acc->server),
                       "DELETE FROM sessions WHERE token_hash = decode ($1, 'hex')",
                       1, params, NULL, on_logged_out, veza_request_ref (request));
}

static void
on_me (GObject      *source,
       GAsyncResult *res,
       gpointer      user_data)
{
  g_autoptr(VezaRequest) request = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) result = veza_db_query_finish (VEZA_DB (source), res, &error);
  g_autoptr(JsonBuilder) b = NULL;

  if (result == NULL)
    {
      veza_request_respond_db_error (request, error);
      return;
    }
  if (veza_db_result_n_rows (result) != 1)
    {
      veza_request_respond_error (request, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                                  _("A valid bearer token is required"));
      return;
    }

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "user");
  veza_accounts_add_user_json (b, result, 0, "");
  json_builder_end_object (b);
  veza_request_respond_json (request, SOUP_STATUS_OK, json_builder_get_root (b));
}

static void
handle_me (VezaRequest *request,
           gpointer     user_data)
{
  Accounts *acc = user_data;
  const char *params[1] = { veza_request_get_user_id (request) };

  veza_db_query_async (veza_server_get_db (acc->server),
                       "SELECT id, username, display_name, created_at FROM users WHERE id = $1",
                       1, params, NULL, on_me, veza_request_ref (request));
}

/* ---- token resolution -------------------------------------------------- */

static void
on_token_looked_up (GObject      *source,
                    GAsyncResult *res,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  g_autoptr(VezaDbResult) result = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_strdup (veza_db_result_get (result, 0, "user_id")), g_free);
}

static void
authenticate (const char          *token,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             callback_data,
              gpointer             user_data)
{
  Accounts *acc = user_data;
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, callback_data);
  g_autofree char *hash = NULL;
  const char *params[1];

  if (!veza_secret_is_token_shaped (token))
    {
      g_task_return_pointer (task, NULL, NULL);
      return;
    }
  hash = veza_secret_hash (token);
  params[0] = hash;
  veza_db_query_async (veza_server_get_db (acc->server),
                       "SELECT user_id FROM sessions"
                       " WHERE token_hash = decode ($1, 'hex') AND expires_at > now ()",
                       1, params, cancellable, on_token_looked_up, g_steal_pointer (&task));
}

static char *
authenticate_finish (GAsyncResult  *result,
                     GError       **error,
                     gpointer       user_data)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- housekeeping ------------------------------------------------------ */

static void
on_purged (GObject      *source,
           GAsyncResult *res,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);

  /* Best effort: the next round tries again. */
  if (r == NULL)
    g_debug ("purge of expired sessions failed: %s", error->message);
  else if (veza_db_result_n_rows (r) > 0)
    g_debug ("purged %s expired sessions", veza_db_result_get (r, 0, "sessions"));
}

/* Expired sessions and failed logins older than any limit's window are of no
 * use to anyone; without this they would pile up forever. */
static gboolean
purge (gpointer user_data)
{
  Accounts *acc = user_data;

  veza_db_query_async (veza_server_get_db (acc->server),
                       "WITH s AS (DELETE FROM sessions WHERE expires_at < now () RETURNING 1),"
                       " f AS (DELETE FROM login_failures"
                       "       WHERE failed_at < now () - interval '1 day' RETURNING 1)"
                       " SELECT (SELECT count (*) FROM s) AS sessions,"
                       "        (SELECT count (*) FROM f) AS failures",
                       0, NULL, NULL, on_purged, NULL);
  return G_SOURCE_CONTINUE;
}

/* ---- set-up ------------------------------------------------------------ */

static void
accounts_free (gpointer data)
{
  Accounts *acc = data;

  g_clear_handle_id (&acc->purge_id, g_source_remove);
  g_thread_pool_free (acc->hash_pool, FALSE, TRUE);
  g_free (acc->dummy_hash);
  g_free (acc);
}

void
veza_accounts_register (VezaServer *server)
{
  Accounts *acc = g_new0 (Accounts, 1);
  VezaHttpServer *http = veza_server_get_http (server);
  char dummy[crypto_pwhash_STRBYTES];

  acc->server = server;
  acc->hash_pool = g_thread_pool_new (hash_worker, acc, 2, FALSE, NULL);
  /* A real hash of nothing anyone knows, verified for unknown usernames so
   * that their answer takes as long as a wrong password's. */
  {
    g_autofree char *random = veza_secret_new_token ();

    if (crypto_pwhash_str (dummy, random, strlen (random),
                           crypto_pwhash_OPSLIMIT_INTERACTIVE,
                           crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0)
      acc->dummy_hash = g_strdup (dummy);
    else
      acc->dummy_hash = g_strdup ("");
  }

  acc->purge_id = g_timeout_add_seconds (PURGE_INTERVAL_S, purge, acc);
  veza_http_server_set_authenticator (http, authenticate, authenticate_finish, acc);
  /* The last route registered owns @acc and frees it with the server. */
  veza_http_server_add_route (http, "POST", "/api/v1/auth/register", VEZA_ROUTE_NONE,
                              handle_register, acc, NULL);
  veza_http_server_add_route (http, "POST", "/api/v1/auth/login", VEZA_ROUTE_NONE,
                              handle_login, acc, NULL);
  veza_http_server_add_route (http, "POST", "/api/v1/auth/logout", VEZA_ROUTE_AUTH,
                              handle_logout, acc, NULL);
  veza_http_server_add_route (http, "GET", "/api/v1/auth/me", VEZA_ROUTE_AUTH,
                              handle_me, acc, accounts_free);
}
