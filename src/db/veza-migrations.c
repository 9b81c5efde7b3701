/* veza-migrations.c — applying the numbered SQL migrations at start-up
 *
 * The migrations are the files migrations/NNN_name.sql, compiled into the
 * program as resources under VEZA_MIGRATIONS_RESOURCE_PATH. Several nodes
 * may start at once against one database: a session-level advisory lock
 * serialises them, and `schema_migrations` is created only once the lock is
 * held, so each migration is applied exactly once.
 *
 * A migration runs in a transaction with its schema_migrations row, so it
 * must not contain statements that cannot run in a transaction block
 * (CREATE INDEX CONCURRENTLY, VACUUM…).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-migrations.h"
#include "veza-plugin.h"

#include <gio/gio.h>
#include <libpq-fe.h>
#include <string.h>

/* Bound on waiting for the lock (another node migrating) and for any lock
 * a migration needs. */
#define LOCK_TIMEOUT "300s"

typedef struct
{
  gint  version;
  char *name;
} Migration;

static void
migration_clear (gpointer data)
{
  Migration *m = data;

  g_free (m->name);
}

static gint
migration_compare (gconstpointer a,
                   gconstpointer b)
{
  const Migration *ma = a;
  const Migration *mb = b;

  return (ma->version > mb->version) - (ma->version < mb->version);
}

static void
notice_processor (void       *arg,
                  const char *message)
{
  g_autofree char *msg = g_strstrip (g_strdup (message));

  g_debug ("server notice: %s", msg);
}

/* The compiled-in migrations, sorted by version. */
static GArray *
list_migrations (GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_auto (GStrv) names = NULL;
  g_autoptr (GArray) list = g_array_new (FALSE, TRUE, sizeof (Migration));

  g_array_set_clear_func (list, migration_clear);

  names = g_resources_enumerate_children (VEZA_MIGRATIONS_RESOURCE_PATH,
                                          G_RESOURCE_LOOKUP_FLAGS_NONE, &local_error);
  if (names == NULL)
    {
      g_set_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_FAILED,
                   "no database migrations are compiled in (%s): %s",
                   VEZA_MIGRATIONS_RESOURCE_PATH, local_error->message);
      return NULL;
    }

  for (guint i = 0; names[i] != NULL; i++)
    {
      Migration m;
      char *end = NULL;
      guint64 version;

      if (!g_ascii_isdigit (names[i][0]) || !g_str_has_suffix (names[i], ".sql"))
        {
          g_debug ("ignoring %s%s: not a NNN_name.sql file",
                   VEZA_MIGRATIONS_RESOURCE_PATH, names[i]);
          continue;
        }
      version = g_ascii_strtoull (names[i], &end, 10);
      if (*end != '_' || version == 0 || version > G_MAXINT32)
        {
          g_set_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_FAILED,
                       "bad migration file name %s (expected NNN_name.sql)", names[i]);
          return NULL;
        }
      m.version = (gint) version;
      m.name = g_strdup (names[i]);
      g_array_append_val (list, m);
    }

  g_array_sort (list, migration_compare);
  for (guint i = 1; i < list->len; i++)
    if (g_array_index (list, Migration, i).version ==
        g_array_index (list, Migration, i - 1).version)
      {
        g_set_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_FAILED,
                     "two migrations share the number %d: %s and %s",
                     g_array_index (list, Migration, i).version,
                     g_array_index (list, Migration, i - 1).name,
                     g_array_index (list, Migration, i).name);
        return NULL;
      }

  return g_steal_pointer (&list);
}

/* Runs @sql (no parameters, possibly several statements); on failure sets
 * @error with @what as context. */
static gboolean
exec_simple (PGconn      *conn,
             const char  *sql,
             const char  *what,
             GError     **error)
{
  PGresult *res = PQexec (conn, sql);
  ExecStatusType status = PQresultStatus (res);
  gboolean ok = (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ||
                 status == PGRES_EMPTY_QUERY);

  if (!ok)
    {
      g_autofree char *msg = g_strstrip (g_strdup (PQerrorMessage (conn)));

      g_set_error (error, VEZA_DB_ERROR,
                   PQstatus (conn) == CONNECTION_OK ? VEZA_DB_ERROR_FAILED :
                   VEZA_DB_ERROR_UNAVAILABLE,
                   "%s: %s", what, msg);
    }
  PQclear (res);
  return ok;
}

static GHashTable *
applied_versions (PGconn  *conn,
                  GError **error)
{
  PGresult *res = PQexec (conn, "SELECT version FROM schema_migrations");
  GHashTable *set;

  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    {
      g_autofree char *msg = g_strstrip (g_strdup (PQerrorMessage (conn)));

      g_set_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_FAILED,
                   "cannot read schema_migrations: %s", msg);
      PQclear (res);
      return NULL;
    }

  set = g_hash_table_new (NULL, NULL);
  for (int i = 0; i < PQntuples (res); i++)
    {
      gint64 v = g_ascii_strtoll (PQgetvalue (res, i, 0), NULL, 10);

      g_hash_table_add (set, GINT_TO_POINTER ((gint) v));
    }
  PQclear (res);
  return set;
}

static gboolean
apply_one (PGconn           *conn,
           const Migration  *m,
           GError          **error)
{
  g_autofree char *path = g_strconcat (VEZA_MIGRATIONS_RESOURCE_PATH, m->name, NULL);
  g_autofree char *version = g_strdup_printf ("%d", m->version);
  g_autofree char *sql = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *params[2];
  PGresult *res;
  gsize size;

  bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, &local_error);
  if (bytes == NULL)
    {
      g_set_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_FAILED,
                   "cannot read migration %s: %s", m->name, local_error->message);
      return FALSE;
    }
  sql = g_strndup (g_bytes_get_data (bytes, &size), g_bytes_get_size (bytes));
  if (strlen (sql) != size)
    {
      g_set_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_FAILED,
                   "migration %s contains a NUL byte", m->name);
      return FALSE;
    }

  if (!exec_simple (conn, "BEGIN", "cannot begin a transaction", error))
    return FALSE;

  if (!exec_simple (conn, sql, "statement failed", &local_error))
    goto failed;

  params[0] = version;
  params[1] = m->name;
  res = PQexecParams (conn,
                      "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                      2, NULL, params, NULL, NULL, 0);
  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    {
      g_autofree char *msg = g_strstrip (g_strdup (PQerrorMessage (conn)));

      local_error = g_error_new (VEZA_DB_ERROR, VEZA_DB_ERROR_FAILED,
                                 "cannot record it: %s", msg);
      PQclear (res);
      goto failed;
    }
  PQclear (res);

  if (!exec_simple (conn, "COMMIT", "commit failed", &local_error))
    goto failed;

  g_message ("applied database migration %s", m->name);
  return TRUE;

failed:
  if (PQstatus (conn) == CONNECTION_OK)
    {
      g_autoptr (GError) rollback_error = NULL;

      /* The error that matters is the migration's; a failed rollback only
       * means the connection is going away, which undoes it as well. */
      if (!exec_simple (conn, "ROLLBACK", "rollback failed", &rollback_error))
        g_debug ("%s", rollback_error->message);
    }
  g_set_error (error, VEZA_DB_ERROR, local_error->code,
               "database migration %s failed and was rolled back: %s",
               m->name, local_error->message);
  return FALSE;
}

gint
veza_migrations_run (const char  *conninfo,
                     GError     **error)
{
  const char *keywords[] = { "dbname", "fallback_application_name", "connect_timeout", NULL };
  const char *values[] = { conninfo, "vezad-migrations", "10", NULL };
  g_autoptr (GArray) migrations = NULL;
  g_autoptr (GHashTable) done = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *lock_key = NULL;
  const char *params[1];
  PGconn *conn;
  PGresult *res;
  gint applied = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (conninfo != NULL, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  migrations = list_migrations (error);
  if (migrations == NULL)
    return -1;

  conn = PQconnectdbParams (keywords, values, 1);
  if (conn == NULL || PQstatus (conn) != CONNECTION_OK)
    {
      g_autofree char *msg = g_strstrip (g_strdup (conn != NULL ? PQerrorMessage (conn) :
                                                   "out of memory"));

      g_set_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE,
                   "cannot connect to the database to apply migrations: %s", msg);
      PQfinish (conn);
      return -1;
    }
  PQsetNoticeProcessor (conn, notice_processor, NULL);

  if (!exec_simple (conn, "SET lock_timeout = '" LOCK_TIMEOUT "'",
                    "cannot set up the connection", error))
    {
      PQfinish (conn);
      return -1;
    }

  lock_key = g_strdup_printf ("%" G_GINT64_FORMAT, VEZA_MIGRATIONS_LOCK_KEY);
  params[0] = lock_key;
  res = PQexecParams (conn, "SELECT pg_advisory_lock ($1::bigint)", 1, NULL, params,
                      NULL, NULL, 0);
  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    {
      g_autofree char *msg = g_strstrip (g_strdup (PQerrorMessage (conn)));

      g_set_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_FAILED,
                   "cannot take the migrations lock: %s", msg);
      PQclear (res);
      PQfinish (conn);
      return -1;
    }
  PQclear (res);

  if (!exec_simple (conn,
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "  version integer PRIMARY KEY,"
                    "  name text NOT NULL,"
                    "  applied_at timestamptz NOT NULL DEFAULT now ())",
                    "cannot create schema_migrations", &local_error) ||
      (done = applied_versions (conn, &local_error)) == NULL)
    ok = FALSE;

  for (guint i = 0; ok && i < migrations->len; i++)
    {
      const Migration *m = &g_array_index (migrations, Migration, i);

      if (g_hash_table_contains (done, GINT_TO_POINTER (m->version)))
        continue;
      if (!apply_one (conn, m, &local_error))
        ok = FALSE;
      else
        applied++;
    }

  if (PQstatus (conn) == CONNECTION_OK)
    {
      res = PQexecParams (conn, "SELECT pg_advisory_unlock ($1::bigint)", 1, NULL, params,
                          NULL, NULL, 0);
      /* Ending the session below releases the lock in any case. */
      if (PQresultStatus (res) != PGRES_TUPLES_OK)
        g_debug ("could not release the migrations lock: %s", PQerrorMessage (conn));
      PQclear (res);
    }
  PQfinish (conn);

  if (!ok)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return -1;
    }
  return applied;
}
