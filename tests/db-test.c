/* db-test.c — the connection pool, the embedded cluster and the migrations,
 * against a real PostgreSQL started in a temporary directory.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-db.h"
#include "veza-embedded-pg.h"
#include "veza-migrations.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAIT_S 30

static char *tmp_root;
static VezaEmbeddedPg *pg;
static char *conninfo;
static VezaDb *db;

/* ---- helpers ----------------------------------------------------------- */

static gboolean
on_wait_timeout (gpointer data)
{
  gboolean *timed_out = data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the main context until *done, at most @seconds. */
static void
wait_until (const gboolean *done,
            guint           seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (seconds, on_wait_timeout, &timed_out);

  while (!*done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_false (timed_out);
}

static void
wait_counter (const guint *counter,
              guint        target,
              guint        seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (seconds, on_wait_timeout, &timed_out);

  while (*counter < target && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_false (timed_out);
}

typedef struct
{
  gboolean      done;
  VezaDbResult *result;
  GError       *error;
  gboolean      ok;
} Wait;

static void
on_query (GObject      *source,
          GAsyncResult *res,
          gpointer      user_data)
{
  Wait *w = user_data;

  w->result = veza_db_query_finish (VEZA_DB (source), res, &w->error);
  w->done = TRUE;
}

static void
on_ping (GObject      *source,
         GAsyncResult *res,
         gpointer      user_data)
{
  Wait *w = user_data;

  w->ok = veza_db_ping_finish (VEZA_DB (source), res, &w->error);
  w->done = TRUE;
}

static VezaDbResult *
query (VezaDb              *d,
       const char          *sql,
       int                  n_params,
       const char * const  *params,
       GError             **error)
{
  Wait w = { 0 };

  veza_db_query_async (d, sql, n_params, params, NULL, on_query, &w);
  wait_until (&w.done, WAIT_S);
  if (w.error != NULL)
    g_propagate_error (error, w.error);
  return w.result;
}

static VezaDbResult *
query_ok (VezaDb     *d,
          const char *sql)
{
  g_autoptr (GError) error = NULL;
  VezaDbResult *r = query (d, sql, 0, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (r);
  return r;
}

static gboolean
ping (VezaDb  *d,
      GError **error)
{
  Wait w = { 0 };

  veza_db_ping_async (d, NULL, on_ping, &w);
  wait_until (&w.done, WAIT_S);
  if (w.error != NULL)
    g_propagate_error (error, w.error);
  return w.ok;
}

static guint
n_migration_files (void)
{
  g_auto (GStrv) names = g_resources_enumerate_children (VEZA_MIGRATIONS_RESOURCE_PATH, 0, NULL);

  g_assert_nonnull (names);
  return g_strv_length (names);
}

static char *
conninfo_for (const char *dbname)
{
  /* A later keyword overrides an earlier one. */
  return g_strdup_printf ("%s dbname=%s", conninfo, dbname);
}

static void
remove_dir (const char *path)
{
  const char *argv[] = { "rm", "-rf", path, NULL };
  g_autoptr (GError) error = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                &status, &error);
  g_assert_no_error (error);
}

/* ---- migrations -------------------------------------------------------- */

static void
test_migrations_apply (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaDbResult) r = NULL;
  static const char * const tables[] = {
    "users", "sessions", "login_failures", "live_streams", "schema_migrations"
  };
  gint applied;

  applied = veza_migrations_run (conninfo, &error);
  g_assert_no_error (error);
  g_assert_cmpint (applied, ==, (gint) n_migration_files ());
  g_assert_cmpint (applied, >=, 2);

  for (gsize i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      const char *params[] = { tables[i] };
      g_autoptr (VezaDbResult) t = query (db, "SELECT to_regclass ($1) IS NOT NULL AS present",
                                          1, params, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (veza_db_result_get (t, 0, "present"), ==, "t");
    }

  r = query_ok (db, "SELECT version, name FROM schema_migrations ORDER BY version");
  g_assert_cmpint (veza_db_result_n_rows (r), ==, applied);
  g_assert_cmpstr (veza_db_result_get (r, 0, "version"), ==, "1");
  g_assert_cmpstr (veza_db_result_get (r, 0, "name"), ==, "001_users_sessions.sql");
}

static void
test_migrations_idempotent (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaDbResult) r = NULL;

  g_assert_cmpint (veza_migrations_run (conninfo, &error), ==, 0);
  g_assert_no_error (error);
  g_assert_cmpint (veza_migrations_run (conninfo, &error), ==, 0);
  g_assert_no_error (error);

  r = query_ok (db, "SELECT count (*) AS n FROM schema_migrations");
  g_assert_cmpint (atoi (veza_db_result_get (r, 0, "n")), ==, (int) n_migration_files ());
}

typedef struct
{
  const char *conninfo;
  gint        applied;
  GError     *error;
} MigrateThread;

static gpointer
migrate_thread (gpointer data)
{
  MigrateThread *t = data;

  t->applied = veza_migrations_run (t->conninfo, &t->error);
  return NULL;
}

static void
test_migrations_concurrent (void)
{
  g_autoptr (VezaDbResult) created = query_ok (db, "CREATE DATABASE veza_concurrent");
  g_autofree char *other = conninfo_for ("veza_concurrent");
  g_autoptr (VezaDb) other_db = veza_db_new (other, 1);
  g_autoptr (VezaDbResult) r = NULL;
  MigrateThread threads[4] = { 0 };
  GThread *handles[4];
  gint total = 0;

  g_assert_nonnull (created);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      threads[i].conninfo = other;
      handles[i] = g_thread_new ("migrate", migrate_thread, &threads[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      g_thread_join (handles[i]);
      g_assert_no_error (threads[i].error);
      g_assert_cmpint (threads[i].applied, >=, 0);
      total += threads[i].applied;
    }
  g_assert_cmpint (total, ==, (gint) n_migration_files ());

  r = query_ok (other_db, "SELECT count (*) AS n, count (DISTINCT version) AS d "
                "FROM schema_migrations");
  g_assert_cmpint (atoi (veza_db_result_get (r, 0, "n")), ==, (int) n_migration_files ());
  g_assert_cmpint (atoi (veza_db_result_get (r, 0, "d")), ==, (int) n_migration_files ());
}

static void
test_migrations_failing (void)
{
  g_autoptr (VezaDbResult) created = query_ok (db, "CREATE DATABASE veza_failing");
  g_autofree char *other = conninfo_for ("veza_failing");
  g_autoptr (VezaDb) other_db = veza_db_new (other, 1);
  g_autoptr (VezaDbResult) blocker = NULL;
  g_autoptr (VezaDbResult) r = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (created);
  /* A table in the way makes the first migration fail half-way. */
  blocker = query_ok (other_db, "CREATE TABLE login_failures (x integer)");

  g_assert_cmpint (veza_migrations_run (other, &error), ==, -1);
  g_assert_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "001_users_sessions.sql"));

  /* Rolled back: nothing it created before the failure is left. */
  r = query_ok (other_db, "SELECT to_regclass ('users') IS NULL AS gone, "
                "(SELECT count (*) FROM schema_migrations) AS n");
  g_assert_cmpstr (veza_db_result_get (r, 0, "gone"), ==, "t");
  g_assert_cmpstr (veza_db_result_get (r, 0, "n"), ==, "0");
}

/* ---- queries ----------------------------------------------------------- */

/* So that a query test also runs alone (-p). */
static void
ensure_migrated (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (veza_migrations_run (conninfo, &error), >=, 0);
  g_assert_no_error (error);
}

static char *
insert_user (const char  *username,
             GError     **error)
{
  const char *params[] = { username, "Someone", "x" };
  g_autoptr (VezaDbResult) r = NULL;

  ensure_migrated ();
  r = query (db, "INSERT INTO users (username, display_name, password_hash) "
             "VALUES ($1, $2, $3) RETURNING id", 3, params, error);
  if (r == NULL)
    return NULL;
  return g_strdup (veza_db_result_get (r, 0, "id"));
}

static void
test_query_params (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *user_id = insert_user ("params_user", &error);
  g_autoptr (VezaDbResult) ins = NULL;
  g_autoptr (VezaDbResult) r = NULL;
  g_autoptr (VezaDbResult) upd = NULL;
  const char *session[] = { NULL, "\\x0102", NULL };
  const char *lookup[] = { NULL };
  const char *update[] = { "nobody-by-that-name" };

  g_assert_no_error (error);
  g_assert_nonnull (user_id);

  session[0] = user_id;
  ins = query (db, "INSERT INTO sessions (user_id, token_hash, expires_at, last_seen_address) "
               "VALUES ($1, $2::bytea, now () + interval '1 day', $3)", 3, session, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (veza_db_result_n_affected (ins), ==, 1);
  g_assert_cmpint (veza_db_result_n_rows (ins), ==, 0);

  lookup[0] = user_id;
  r = query (db, "SELECT s.last_seen_address, u.username AS \"userName\", "
             "encode (s.token_hash, 'hex') AS token "
             "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.user_id = $1",
             1, lookup, &error);
  g_assert_no_error (error);
  g_assert_cmpint (veza_db_result_n_rows (r), ==, 1);
  g_assert_null (veza_db_result_get (r, 0, "last_seen_address"));   /* SQL NULL */
  g_assert_cmpstr (veza_db_result_get (r, 0, "userName"), ==, "params_user");
  g_assert_cmpstr (veza_db_result_get (r, 0, "token"), ==, "0102");
  g_assert_cmpint (veza_db_result_column (r, "token"), ==, 2);
  g_assert_cmpint (veza_db_result_column (r, "nope"), ==, -1);
  g_assert_null (veza_db_result_get (r, 1, "token"));               /* bad row */
  g_assert_null (veza_db_result_get (r, -1, "token"));
  g_assert_null (veza_db_result_get (r, 0, "nope"));                /* bad column */

  /* Parameters are values, never SQL. */
  {
    const char *evil[] = { "x'; DROP TABLE users; --" };
    g_autoptr (VezaDbResult) e = query (db, "SELECT $1::text AS v", 1, evil, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (veza_db_result_get (e, 0, "v"), ==, evil[0]);
  }

  /* Every pooled connection bounds its statements. */
  {
    g_autoptr (VezaDbResult) t = query_ok (db, "SHOW statement_timeout");

    g_assert_cmpstr (veza_db_result_get (t, 0, "statement_timeout"), ==, "15s");
  }

  upd = query (db, "UPDATE users SET display_name = 'x' WHERE username = $1", 1, update, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (veza_db_result_n_affected (upd), ==, 0);
  g_assert_true (veza_db_is_available (db));
}

static void
test_query_unique (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *first = insert_user ("unique_user", &error);
  g_autofree char *second = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (first);

  /* Usernames are unique regardless of case. */
  second = insert_user ("Unique_User", &error);
  g_assert_null (second);
  g_assert_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNIQUE);
  /* The message, which may be logged, does not quote the row's values. */
  g_assert_null (strstr (error->message, "unique_user"));
  g_assert_true (veza_db_is_available (db));
}

static void
test_query_constraint (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = insert_user ("no spaces allowed", &error);
  const char *bad_uuid[] = { "not-a-uuid" };
  const char *missing_user[] = { "00000000-0000-0000-0000-000000000000" };
  VezaDbResult *r;

  /* CHECK violation, 23514 */
  g_assert_null (id);
  g_assert_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_CONSTRAINT);
  g_clear_error (&error);

  /* invalid text representation, 22P02 */
  r = query (db, "SELECT * FROM users WHERE id = $1", 1, bad_uuid, &error);
  g_assert_null (r);
  g_assert_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_CONSTRAINT);
  g_clear_error (&error);

  /* foreign key violation, 23503 */
  r = query (db, "INSERT INTO sessions (user_id, token_hash, expires_at) "
             "VALUES ($1, '\\x00', now ())", 1, missing_user, &error);
  g_assert_null (r);
  g_assert_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_CONSTRAINT);
  g_clear_error (&error);

  /* anything else */
  r = query (db, "SELEC 1", 0, NULL, &error);
  g_assert_null (r);
  g_assert_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_FAILED);
  g_clear_error (&error);

  r = query (db, "SELECT * FROM no_such_table", 0, NULL, &error);
  g_assert_null (r);
  g_assert_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_FAILED);
  g_assert_true (veza_db_is_available (db));
}

typedef struct
{
  guint       n_done;
  guint       n_ok;
  GHashTable *backends;   /* nullable: the server processes seen */
} Counter;

typedef struct
{
  Counter *counter;
  int      value;
} Pending;

static void
on_counted_query (GObject      *source,
                  GAsyncResult *res,
                  gpointer      user_data)
{
  Pending *p = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (r != NULL)
    {
      g_autofree char *expected = g_strdup_printf ("%d", p->value * 2);

      g_assert_cmpstr (veza_db_result_get (r, 0, "v"), ==, expected);
      if (p->counter->backends != NULL)
        g_hash_table_add (p->counter->backends,
                          g_strdup (veza_db_result_get (r, 0, "backend")));
      p->counter->n_ok++;
    }
  else
    g_assert_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE);
  p->counter->n_done++;
  g_free (p);
}

static void
start_counted (VezaDb  *d,
               Counter *counter,
               int      value)
{
  Pending *p = g_new0 (Pending, 1);
  g_autofree char *param = g_strdup_printf ("%d", value);
  const char *params[] = { param };

  p->counter = counter;
  p->value = value;
  veza_db_query_async (d, "SELECT $1::int * 2 AS v, pg_backend_pid () AS backend, "
                       "pg_sleep (0.001)", 1, params, NULL,
                       on_counted_query, p);
}

static void
test_query_concurrent (void)
{
  g_autoptr (VezaDb) d = veza_db_new (conninfo, 4);
  g_autoptr (GHashTable) backends = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Counter counter = { 0, 0, backends };
  const guint n = 200;

  for (guint i = 0; i < n; i++)
    start_counted (d, &counter, (int) i);
  wait_counter (&counter.n_done, n, WAIT_S);
  g_assert_cmpuint (counter.n_ok, ==, n);

  /* Never more connections than the pool size. */
  g_assert_cmpuint (g_hash_table_size (backends), >=, 1);
  g_assert_cmpuint (g_hash_table_size (backends), <=, 4);
}

static void
test_query_close (void)
{
  VezaDb *d = veza_db_new (conninfo, 2);
  g_autoptr (GError) error = NULL;
  Counter counter = { 0 };
  gint64 start;

  /* Closing while jobs run and wait: every job still reports. */
  for (guint i = 0; i < 20; i++)
    start_counted (d, &counter, (int) i);
  start = g_get_monotonic_time ();
  veza_db_close (d);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_TIME_SPAN_SECOND);
  wait_counter (&counter.n_done, 20, WAIT_S);
  g_assert_null (query (d, "SELECT 1", 0, NULL, &error));
  g_assert_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE);
  veza_db_close (d);   /* idempotent */
  g_object_unref (d);

  /* Dropping the last reference while jobs are in flight. */
  counter = (Counter) { 0 };
  d = veza_db_new (conninfo, 2);
  for (guint i = 0; i < 20; i++)
    start_counted (d, &counter, (int) i);
  g_object_unref (d);
  wait_counter (&counter.n_done, 20, WAIT_S);
  g_assert_cmpuint (counter.n_ok, ==, 20);
}

static void
test_query_ping (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ping (db, &error));
  g_assert_no_error (error);
  g_assert_true (veza_db_is_available (db));
}

static void
test_query_cancelled (void)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  Wait w = { 0 };

  g_cancellable_cancel (cancellable);
  veza_db_query_async (db, "SELECT 1", 0, NULL, cancellable, on_query, &w);
  wait_until (&w.done, WAIT_S);
  g_assert_null (w.result);
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&w.error);

  /* The pool is unaffected. */
  g_assert_true (ping (db, &error));
  g_assert_no_error (error);
}

static void
test_query_no_server (void)
{
  g_autofree char *missing = g_build_filename (tmp_root, "no-such-dir", NULL);
  g_autofree char *info = g_strdup_printf ("host=%s port=5432 dbname=veza user=veza", missing);
  g_autoptr (VezaDb) d = veza_db_new (info, 2);
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  g_assert_true (veza_db_is_available (d));
  g_assert_null (query (d, "SELECT 1", 0, NULL, &error));
  g_assert_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE);
  g_assert_false (veza_db_is_available (d));
  g_clear_error (&error);
  g_assert_false (ping (d, &error));
  g_assert_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_TIME_SPAN_SECOND);
}

/* ---- the embedded cluster ---------------------------------------------- */

static void
test_embedded_missing_bindir (void)
{
  g_autofree char *dir = g_build_filename (tmp_root, "nobin", NULL);
  g_autoptr (VezaEmbeddedPg) other = veza_embedded_pg_new (dir);
  g_autoptr (GError) error = NULL;

  g_setenv ("VEZA_PG_BINDIR", "/nonexistent", TRUE);
  g_assert_false (veza_embedded_pg_start (other, &error));
  g_unsetenv ("VEZA_PG_BINDIR");

  g_assert_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "install the 'postgresql' package"));
  g_assert_nonnull (strstr (error->message, "/nonexistent"));
  g_assert_null (veza_embedded_pg_get_conninfo (other));
}

static void
test_embedded_unreachable (void)
{
  g_autofree char *locked = g_build_filename (tmp_root, "locked", NULL);
  g_autofree char *dir = g_build_filename (locked, "data", "postgres", NULL);
  g_autoptr (VezaEmbeddedPg) other = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start;

  if (geteuid () != 0)
    {
      g_test_skip ("only meaningful when running as root");
      return;
    }

  g_assert_cmpint (g_mkdir (locked, 0700), ==, 0);
  g_assert_cmpint (g_chmod (locked, 0700), ==, 0);

  other = veza_embedded_pg_new (dir);
  start = g_get_monotonic_time ();
  g_assert_false (veza_embedded_pg_start (other, &error));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_TIME_SPAN_SECOND);
  g_assert_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, "is not reachable by the 'postgres' user"));
  g_assert_nonnull (strstr (error->message, dir));
}

static char *
data_directory_of (const char *info)
{
  g_autoptr (VezaDb) d = veza_db_new (info, 1);
  g_autoptr (VezaDbResult) r = query_ok (d, "SELECT current_setting ('data_directory') AS d");

  return g_strdup (veza_db_result_get (r, 0, "d"));
}

static void
test_embedded_second_cluster (void)
{
  g_autofree char *dir = g_build_filename (tmp_root, "second", "postgres", NULL);
  g_autofree char *data = g_build_filename (dir, "data", NULL);
  g_autofree char *pid_file = g_build_filename (data, "postmaster.pid", NULL);
  g_autofree char *stale = NULL;
  g_autofree char *first_dir = NULL;
  g_autofree char *second_dir = NULL;
  g_autofree char *again = NULL;
  g_autoptr (VezaEmbeddedPg) second = veza_embedded_pg_new (dir);
  g_autoptr (VezaEmbeddedPg) third = NULL;
  g_autoptr (GError) error = NULL;

  /* Two clusters (same port number, different directories) at once. */
  g_assert_true (veza_embedded_pg_start (second, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (veza_embedded_pg_get_log_path (second), G_FILE_TEST_EXISTS));
  first_dir = data_directory_of (conninfo);
  second_dir = data_directory_of (veza_embedded_pg_get_conninfo (second));
  g_assert_cmpstr (first_dir, !=, second_dir);
  g_assert_cmpstr (second_dir, ==, data);

  /* A stale postmaster.pid naming a live process that is not a server. */
  veza_embedded_pg_stop (second);
  veza_embedded_pg_stop (second);   /* idempotent */
  g_assert_false (g_file_test (pid_file, G_FILE_TEST_EXISTS));
  stale = g_strdup_printf ("%d\n%s\n0\n5432\n\n\n", (int) getpid (), data);
  g_assert_true (g_file_set_contents (pid_file, stale, -1, NULL));
  g_assert_true (veza_embedded_pg_start (second, &error));
  g_assert_no_error (error);
  g_free (second_dir);
  second_dir = data_directory_of (veza_embedded_pg_get_conninfo (second));
  g_assert_cmpstr (second_dir, ==, data);

  /* A server left running (as by a crashed run) in the directory. */
  third = veza_embedded_pg_new (dir);
  g_assert_true (veza_embedded_pg_start (third, &error));
  g_assert_no_error (error);
  again = data_directory_of (veza_embedded_pg_get_conninfo (third));
  g_assert_cmpstr (again, ==, data);

  g_clear_object (&third);
  g_assert_false (g_file_test (pid_file, G_FILE_TEST_EXISTS));
  g_clear_object (&second);
}

/* ---- outages ----------------------------------------------------------- */

static void
test_outage_restart (void)
{
  g_autoptr (VezaDb) d = veza_db_new (conninfo, 2);
  g_autoptr (GError) error = NULL;
  Counter counter = { 0 };
  gboolean recovered = FALSE;
  gint64 deadline;

  /* Open both pooled connections. */
  for (guint i = 0; i < 8; i++)
    start_counted (d, &counter, (int) i);
  wait_counter (&counter.n_done, 8, WAIT_S);
  g_assert_cmpuint (counter.n_ok, ==, 8);

  g_assert_true (veza_embedded_pg_restart (pg, &error));
  g_assert_no_error (error);

  /* The first query may fail, and only as unavailable; later ones work on
   * the same pool. */
  deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  while (!recovered && g_get_monotonic_time () < deadline)
    {
      g_autoptr (VezaDbResult) r = query (d, "SELECT 1 AS one", 0, NULL, &error);

      if (r != NULL)
        recovered = TRUE;
      else
        {
          g_assert_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE);
          g_clear_error (&error);
          g_usleep (200 * 1000);
        }
    }
  g_assert_true (recovered);

  counter = (Counter) { 0 };
  for (guint i = 0; i < 8; i++)
    start_counted (d, &counter, (int) i);
  wait_counter (&counter.n_done, 8, WAIT_S);
  g_assert_cmpuint (counter.n_ok, ==, 8);
  g_assert_true (veza_db_is_available (d));
}

static void
test_outage_stopped (void)
{
  g_autoptr (VezaDb) d = veza_db_new (conninfo, 2);
  g_autoptr (VezaDbResult) before = query_ok (d, "SELECT 1");
  g_autoptr (GError) error = NULL;
  gboolean recovered = FALSE;
  gint64 start, deadline;

  g_assert_nonnull (before);
  veza_embedded_pg_stop (pg);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < 3; i++)
    {
      g_assert_null (query (d, "SELECT 1", 0, NULL, &error));
      g_assert_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE);
      g_clear_error (&error);
      g_assert_false (veza_db_is_available (d));
    }
  g_assert_false (ping (d, &error));
  g_assert_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE);
  g_clear_error (&error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_TIME_SPAN_SECOND);

  /* Back again: the same pool recovers. */
  g_assert_true (veza_embedded_pg_start (pg, &error));
  g_assert_no_error (error);
  deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  while (!recovered && g_get_monotonic_time () < deadline)
    {
      if (ping (d, &error))
        recovered = TRUE;
      else
        {
          g_assert_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE);
          g_clear_error (&error);
          g_usleep (200 * 1000);
        }
    }
  g_assert_true (recovered);
  g_assert_true (veza_db_is_available (d));
}

int
main (int    argc,
      char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *cluster = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  tmp_root = g_dir_make_tmp ("veza-db-test-XXXXXX", &error);
  g_assert_no_error (error);
  /* When running as root the cluster runs as 'postgres', which must be able
   * to reach it. */
  g_assert_cmpint (g_chmod (tmp_root, 0755), ==, 0);

  cluster = g_build_filename (tmp_root, "postgres", NULL);
  pg = veza_embedded_pg_new (cluster);
  if (!veza_embedded_pg_start (pg, &error))
    g_error ("cannot start the test cluster: %s", error->message);
  conninfo = g_strdup (veza_embedded_pg_get_conninfo (pg));
  db = veza_db_new (conninfo, 4);

  g_test_add_func ("/veza/db/migrations/apply", test_migrations_apply);
  g_test_add_func ("/veza/db/migrations/idempotent", test_migrations_idempotent);
  g_test_add_func ("/veza/db/migrations/concurrent", test_migrations_concurrent);
  g_test_add_func ("/veza/db/migrations/failing", test_migrations_failing);
  g_test_add_func ("/veza/db/query/params", test_query_params);
  g_test_add_func ("/veza/db/query/unique", test_query_unique);
  g_test_add_func ("/veza/db/query/constraint", test_query_constraint);
  g_test_add_func ("/veza/db/query/concurrent", test_query_concurrent);
  g_test_add_func ("/veza/db/query/close", test_query_close);
  g_test_add_func ("/veza/db/query/ping", test_query_ping);
  g_test_add_func ("/veza/db/query/cancelled", test_query_cancelled);
  g_test_add_func ("/veza/db/query/no-server", test_query_no_server);
  g_test_add_func ("/veza/db/embedded/missing-bindir", test_embedded_missing_bindir);
  g_test_add_func ("/veza/db/embedded/unreachable", test_embedded_unreachable);
  g_test_add_func ("/veza/db/embedded/second-cluster", test_embedded_second_cluster);
  g_test_add_func ("/veza/db/outage/restart", test_outage_restart);
  g_test_add_func ("/veza/db/outage/stopped", test_outage_stopped);

  ret = g_test_run ();

  g_clear_object (&db);
  veza_embedded_pg_stop (pg);
  g_clear_object (&pg);
  g_free (conninfo);
  remove_dir (tmp_root);
  g_free (tmp_root);
  return ret;
}
