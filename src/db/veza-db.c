/* veza-db.c — a small pool of libpq connections used from worker threads
 *
 * Every query becomes a job pushed to a GThreadPool whose thread count is the
 * pool size, so a job that runs always finds a free connection; jobs beyond
 * that wait in the pool's queue (bounded by VEZA_DB_QUEUE_TIMEOUT_S). The
 * result goes back through a GTask, so the callback runs in the caller's
 * thread-default main context.
 *
 * Connections are opened on first use. Before a statement is sent, an idle
 * connection is probed (a server restart leaves a FATAL message and an EOF in
 * its socket); a connection found bad then, or one whose send fails, is
 * re-established and the statement tried once more, because it cannot have
 * run. A connection lost after the statement was sent gives
 * VEZA_DB_ERROR_UNAVAILABLE and is re-established by the next job.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-db.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <string.h>

G_DEFINE_QUARK (veza-db-error-quark, veza_db_error)

/* After a failed connection attempt, jobs that would need a new connection
 * fail at once for this long instead of each waiting for a connect timeout. */
#define RETRY_AFTER_US (500 * G_TIME_SPAN_MILLISECOND)

/* How long veza_db_close() lets running statements finish before it asks the
 * server to cancel them. */
#define CLOSE_GRACE_US (5 * G_TIME_SPAN_SECOND)

/* ---- results ----------------------------------------------------------- */

struct _VezaDbResult
{
  gatomicrefcount  ref_count;
  PGresult        *res;
};

G_DEFINE_BOXED_TYPE (VezaDbResult, veza_db_result, veza_db_result_ref, veza_db_result_unref)

static VezaDbResult *
veza_db_result_new (PGresult *res)
{
  VezaDbResult *result = g_new0 (VezaDbResult, 1);

  g_atomic_ref_count_init (&result->ref_count);
  result->res = res;
  return result;
}

/**
 * veza_db_result_ref:
 * @result: a #VezaDbResult
 *
 * Returns: (transfer full): @result
 */
VezaDbResult *
veza_db_result_ref (VezaDbResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);

  g_atomic_ref_count_inc (&result->ref_count);
  return result;
}

void
veza_db_result_unref (VezaDbResult *result)
{
  g_return_if_fail (result != NULL);

  if (g_atomic_ref_count_dec (&result->ref_count))
    {
      PQclear (result->res);
      g_free (result);
    }
}

int
veza_db_result_n_rows (VezaDbResult *result)
{
  g_return_val_if_fail (result != NULL, 0);

  return PQntuples (result->res);
}

guint64
veza_db_result_n_affected (VezaDbResult *result)
{
  const char *tuples;

  g_return_val_if_fail (result != NULL, 0);

  tuples = PQcmdTuples (result->res);
  if (tuples == NULL || tuples[0] == '\0')
    return 0;
  return g_ascii_strtoull (tuples, NULL, 10);
}

/* Returns: the column index of @name, or -1 */
int
veza_db_result_column (VezaDbResult *result,
                       const char   *name)
{
  int n_fields;

  g_return_val_if_fail (result != NULL, -1);
  g_return_val_if_fail (name != NULL, -1);

  /* Exact match first: PQfnumber() folds unquoted names to lower case. */
  n_fields = PQnfields (result->res);
  for (int i = 0; i < n_fields; i++)
    if (g_strcmp0 (PQfname (result->res, i), name) == 0)
      return i;
  return PQfnumber (result->res, name);
}

const char *
veza_db_result_get (VezaDbResult *result,
                    int           row,
                    const char   *column)
{
  int col;

  g_return_val_if_fail (result != NULL, NULL);
  g_return_val_if_fail (column != NULL, NULL);

  if (row < 0 || row >= PQntuples (result->res))
    return NULL;
  col = veza_db_result_column (result, column);
  if (col < 0)
    return NULL;
  if (PQgetisnull (result->res, row, col))
    return NULL;
  return PQgetvalue (result->res, row, col);
}

/* ---- the pool ---------------------------------------------------------- */

typedef struct
{
  PGconn   *conn;
  PGcancel *cancel;  /* guarded by VezaDb.lock */
  gboolean  busy;    /* guarded by VezaDb.lock */
} VezaDbSlot;

struct _VezaDb
{
  GObject parent_instance;

  char         *conninfo;
  guint         pool_size;
  VezaDbSlot   *slots;
  GAsyncQueue  *free_slots;
  GThreadPool  *workers;

  GMutex        lock;
  GCond         idle_cond;
  guint         n_running;     /* guarded by lock */
  gboolean      closed;        /* guarded by lock */
  gint64        retry_after;   /* guarded by lock; monotonic µs */
  char         *last_failure;  /* guarded by lock */

  gint          available;     /* atomic */
};

G_DEFINE_FINAL_TYPE (VezaDb, veza_db, G_TYPE_OBJECT)

typedef enum
{
  VEZA_DB_JOB_QUERY,
  VEZA_DB_JOB_PING,
} VezaDbJobKind;

typedef struct
{
  VezaDbJobKind  kind;
  GTask         *task;
  char          *sql;
  int            n_params;
  char         **params;   /* n_params entries, NULL ones are SQL NULL */
  gint64         queued_at;
} VezaDbJob;

/* Set while a worker thread runs a job of this VezaDb, so that a finalize
 * triggered by the worker's last reference does not wait for itself. */
static GPrivate in_worker;

static void
veza_db_job_free (VezaDbJob *job)
{
  if (job->params != NULL)
    for (int i = 0; i < job->n_params; i++)
      g_free (job->params[i]);
  g_free (job->params);
  g_free (job->sql);
  g_clear_object (&job->task);
  g_free (job);
}

static char *
libpq_message (const char *msg)
{
  char *copy = g_strdup (msg != NULL && msg[0] != '\0' ? msg : "unknown error");

  return g_strstrip (copy);
}

static void
notice_processor (void       *arg,
                  const char *message)
{
  g_autofree char *msg = libpq_message (message);

  g_debug ("server notice: %s", msg);
}

static void
veza_db_set_available (VezaDb   *self,
                       gboolean  available)
{
  gint old = g_atomic_int_exchange (&self->available, available ? 1 : 0);

  if (old != (available ? 1 : 0))
    {
      if (available)
        g_message ("database connection available again");
      else
        g_message ("database unavailable");
    }
}

static void
veza_db_slot_drop (VezaDb     *self,
                   VezaDbSlot *slot)
{
  g_mutex_lock (&self->lock);
  g_clear_pointer (&slot->cancel, PQfreeCancel);
  g_mutex_unlock (&self->lock);
  g_clear_pointer (&slot->conn, PQfinish);
}

/* Reads whatever an idle connection has received. A server that shut down
 * or restarted left a FATAL message and then an end of file there, which
 * turns the connection bad: the statement can then be sent on a new one. */
static void
veza_db_slot_probe (VezaDbSlot *slot)
{
  for (int i = 0; i < 4 && PQstatus (slot->conn) == CONNECTION_OK; i++)
    {
      struct pollfd pfd = { .fd = PQsocket (slot->conn), .events = POLLIN };
      int r;

      if (pfd.fd < 0)
        return;
      do
        r = poll (&pfd, 1, 0);
      while (r < 0 && errno == EINTR);
      if (r <= 0)
        return;
      if (!PQconsumeInput (slot->conn))
        return;
    }
}

static gboolean
veza_db_slot_ensure (VezaDb      *self,
                     VezaDbSlot  *slot,
                     GError     **error)
{
  g_autofree char *timeout = NULL;
  const char *keywords[4];
  const char *values[4];
  PGresult *res;
  gint64 now;

  if (slot->conn != NULL && PQstatus (slot->conn) == CONNECTION_OK)
    {
      veza_db_slot_probe (slot);
      if (PQstatus (slot->conn) == CONNECTION_OK)
        return TRUE;
      g_message ("database connection lost; reconnecting");
    }
  veza_db_slot_drop (self, slot);

  now = g_get_monotonic_time ();
  g_mutex_lock (&self->lock);
  if (now < self->retry_after)
    {
      g_set_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE,
                   "could not connect to the database: %s",
                   self->last_failure != NULL ? self->last_failure : "unknown error");
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
  g_mutex_unlock (&self->lock);

  /* The configured string comes first and is expanded; the timeout given
   * after it wins, so that a connection attempt is always bounded. */
  timeout = g_strdup_printf ("%d", VEZA_DB_CONNECT_TIMEOUT_S);
  keywords[0] = "dbname";
  values[0] = self->conninfo;
  keywords[1] = "fallback_application_name";
  values[1] = "vezad";
  keywords[2] = "connect_timeout";
  values[2] = timeout;
  keywords[3] = NULL;
  values[3] = NULL;

  slot->conn = PQconnectdbParams (keywords, values, 1);
  if (slot->conn == NULL || PQstatus (slot->conn) != CONNECTION_OK)
    {
      g_autofree char *msg = libpq_message (slot->conn != NULL ?
                                            PQerrorMessage (slot->conn) :
                                            "out of memory");

      g_clear_pointer (&slot->conn, PQfinish);
      g_mutex_lock (&self->lock);
      self->retry_after = g_get_monotonic_time () + RETRY_AFTER_US;
      g_free (self->last_failure);
      self->last_failure = g_strdup (msg);
      g_mutex_unlock (&self->lock);
      g_debug ("could not connect to the database: %s", msg);
      g_set_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE,
                   "could not connect to the database: %s", msg);
      return FALSE;
    }

  PQsetNoticeProcessor (slot->conn, notice_processor, NULL);

  res = PQexec (slot->conn, "SET statement_timeout = "
                G_STRINGIFY (VEZA_DB_STATEMENT_TIMEOUT_MS));
  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    {
      g_autofree char *msg = libpq_message (PQerrorMessage (slot->conn));

      PQclear (res);
      veza_db_slot_drop (self, slot);
      g_set_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE,
                   "could not set up the database connection: %s", msg);
      return FALSE;
    }
  PQclear (res);

  g_mutex_lock (&self->lock);
  slot->cancel = PQgetCancel (slot->conn);
  g_mutex_unlock (&self->lock);
  g_debug ("opened a database connection");
  return TRUE;
}

static gboolean
sqlstate_means_unavailable (const char *state)
{
  return (g_str_has_prefix (state, "08") ||       /* connection exception */
          g_str_has_prefix (state, "57P0") ||     /* shutdown, cannot connect now */
          strcmp (state, "53300") == 0);          /* too many connections */
}

static GError *
veza_db_error_from_result (PGresult *res)
{
  const char *state = PQresultErrorField (res, PG_DIAG_SQLSTATE);
  const char *primary = PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY);
  /* The primary message only: the DETAIL of a unique violation quotes the
   * row's values (a stream key, a token hash), and these messages reach
   * the log. */
  g_autofree char *msg = libpq_message (primary != NULL ? primary
                                                        : PQresultErrorMessage (res));
  VezaDbError code = VEZA_DB_ERROR_FAILED;

  if (state == NULL)
    state = "";
  if (strcmp (state, "23505") == 0)
    code = VEZA_DB_ERROR_UNIQUE;
  else if (g_str_has_prefix (state, "22") || g_str_has_prefix (state, "23"))
    code = VEZA_DB_ERROR_CONSTRAINT;
  else if (sqlstate_means_unavailable (state))
    code = VEZA_DB_ERROR_UNAVAILABLE;

  return g_error_new (VEZA_DB_ERROR, code, "%s%s%s", msg,
                      state[0] != '\0' ? " SQLSTATE " : "", state);
}

/* Collects the results of a statement that was sent. */
static PGresult *
veza_db_slot_collect (VezaDb      *self,
                      VezaDbSlot  *slot,
                      GError     **error)
{
  g_autoptr (GError) local_error = NULL;
  PGresult *last = NULL;
  PGresult *res;
  gboolean reset = FALSE;

  while ((res = PQgetResult (slot->conn)) != NULL)
    {
      switch (PQresultStatus (res))
        {
        case PGRES_COMMAND_OK:
        case PGRES_TUPLES_OK:
        case PGRES_EMPTY_QUERY:
          if (local_error == NULL)
            {
              PQclear (last);
              last = res;
            }
          else
            PQclear (res);
          break;

        case PGRES_FATAL_ERROR:
        case PGRES_NONFATAL_ERROR:
        case PGRES_BAD_RESPONSE:
          if (local_error == NULL)
            local_error = veza_db_error_from_result (res);
          PQclear (res);
          break;

        default:
          /* COPY and other modes the pool does not speak: the connection is
           * in a state we cannot bring back, so it is closed. */
          if (local_error == NULL)
            local_error = g_error_new (VEZA_DB_ERROR, VEZA_DB_ERROR_FAILED,
                                       "unsupported result status %s",
                                       PQresStatus (PQresultStatus (res)));
          PQclear (res);
          reset = TRUE;
          break;
        }
      if (reset)
        break;
    }

  if (PQstatus (slot->conn) != CONNECTION_OK)
    {
      g_autofree char *msg = libpq_message (local_error != NULL ?
                                            local_error->message :
                                            PQerrorMessage (slot->conn));

      g_message ("database connection lost during a statement");
      g_clear_error (&local_error);
      local_error = g_error_new (VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE,
                                 "database connection lost: %s", msg);
      reset = TRUE;
    }
  else if (!reset && PQtransactionStatus (slot->conn) != PQTRANS_IDLE)
    {
      /* Each job may run on another connection, so a transaction left open
       * by a statement would leak into unrelated jobs. */
      PGresult *rb = PQexec (slot->conn, "ROLLBACK");

      g_message ("a statement left a transaction open on a pooled connection; rolled back");
      if (PQresultStatus (rb) != PGRES_COMMAND_OK)
        reset = TRUE;
      PQclear (rb);
    }

  if (reset)
    veza_db_slot_drop (self, slot);

  if (local_error != NULL)
    {
      veza_db_set_available (self, local_error->code != VEZA_DB_ERROR_UNAVAILABLE);
      PQclear (last);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  veza_db_set_available (self, TRUE);
  if (last == NULL)
    {
      g_set_error_literal (error, VEZA_DB_ERROR, VEZA_DB_ERROR_FAILED,
                           "the statement gave no result");
      return NULL;
    }
  return last;
}

static PGresult *
veza_db_slot_run (VezaDb              *self,
                  VezaDbSlot          *slot,
                  const char          *sql,
                  int                  n_params,
                  const char * const  *params,
                  GError             **error)
{
  for (guint attempt = 0; ; attempt++)
    {
      g_autoptr (GError) local_error = NULL;
      g_autofree char *msg = NULL;

      if (!veza_db_slot_ensure (self, slot, &local_error))
        {
          veza_db_set_available (self, FALSE);
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }

      if (PQsendQueryParams (slot->conn, sql, n_params, NULL, params,
                             NULL, NULL, 0))
        return veza_db_slot_collect (self, slot, error);

      msg = libpq_message (PQerrorMessage (slot->conn));
      if (PQstatus (slot->conn) == CONNECTION_OK)
        {
          g_set_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_FAILED,
                       "could not send the statement: %s", msg);
          return NULL;
        }

      /* The statement was not sent whole, so it cannot have run. */
      veza_db_slot_drop (self, slot);
      if (attempt == 0)
        {
          g_message ("database connection lost; reconnecting");
          continue;
        }
      veza_db_set_available (self, FALSE);
      g_set_error (error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE,
                   "database connection lost: %s", msg);
      return NULL;
    }
}

static void
veza_db_worker (gpointer data,
                gpointer user_data)
{
  VezaDbJob *job = data;
  GTask *task = g_steal_pointer (&job->task);
  VezaDb *self = g_task_get_source_object (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr (GError) error = NULL;
  PGresult *res = NULL;
  VezaDbSlot *slot = NULL;
  gboolean closed;

  g_private_set (&in_worker, self);

  g_mutex_lock (&self->lock);
  closed = self->closed;
  if (!closed)
    self->n_running++;
  g_mutex_unlock (&self->lock);

  if (closed)
    g_set_error_literal (&error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE,
                         "the database connection pool is closed");
  else if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    ;
  else if (g_get_monotonic_time () - job->queued_at >
           VEZA_DB_QUEUE_TIMEOUT_S * G_TIME_SPAN_SECOND)
    g_set_error_literal (&error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE,
                         "timed out waiting for a free database connection");
  else if ((slot = g_async_queue_timeout_pop (self->free_slots,
                                              VEZA_DB_QUEUE_TIMEOUT_S * G_TIME_SPAN_SECOND)) == NULL)
    g_set_error_literal (&error, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE,
                         "timed out waiting for a free database connection");
  else
    {
      g_mutex_lock (&self->lock);
      slot->busy = TRUE;
      g_mutex_unlock (&self->lock);

      res = veza_db_slot_run (self, slot, job->sql, job->n_params,
                              (const char * const *) job->params, &error);

      g_mutex_lock (&self->lock);
      slot->busy = FALSE;
      g_mutex_unlock (&self->lock);
      g_async_queue_push (self->free_slots, slot);
    }

  if (!closed)
    {
      g_mutex_lock (&self->lock);
      self->n_running--;
      g_cond_broadcast (&self->idle_cond);
      g_mutex_unlock (&self->lock);
    }

  if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else if (job->kind == VEZA_DB_JOB_PING)
    {
      PQclear (res);
      g_task_return_boolean (task, TRUE);
    }
  else
    g_task_return_pointer (task, veza_db_result_new (res),
                           (GDestroyNotify) veza_db_result_unref);

  veza_db_job_free (job);
  /* This may be the last reference to self (see veza_db_dispose). */
  g_object_unref (task);
  g_private_set (&in_worker, NULL);
}

static void
veza_db_push (VezaDb    *self,
              VezaDbJob *job)
{
  gboolean pushed = FALSE;

  job->queued_at = g_get_monotonic_time ();

  g_mutex_lock (&self->lock);
  if (!self->closed && self->workers != NULL)
    {
      g_thread_pool_push (self->workers, job, NULL);
      pushed = TRUE;
    }
  g_mutex_unlock (&self->lock);

  if (!pushed)
    {
      g_task_return_new_error (job->task, VEZA_DB_ERROR, VEZA_DB_ERROR_UNAVAILABLE,
                               "the database connection pool is closed");
      veza_db_job_free (job);
    }
}

void
veza_db_query_async (VezaDb              *db,
                     const char          *sql,
                     int                  n_params,
                     const char * const  *params,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  VezaDbJob *job;

  g_return_if_fail (VEZA_IS_DB (db));
  g_return_if_fail (sql != NULL);
  g_return_if_fail (n_params >= 0);
  g_return_if_fail (n_params == 0 || params != NULL);

  job = g_new0 (VezaDbJob, 1);
  job->kind = VEZA_DB_JOB_QUERY;
  job->task = g_task_new (db, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, veza_db_query_async);
  g_task_set_name (job->task, "veza_db_query_async");
  job->sql = g_strdup (sql);
  job->n_params = n_params;
  if (n_params > 0)
    {
      job->params = g_new0 (char *, n_params);
      for (int i = 0; i < n_params; i++)
        job->params[i] = g_strdup (params[i]);
    }

  if (n_params > G_MAXUINT16)
    {
      g_task_return_new_error (job->task, VEZA_DB_ERROR, VEZA_DB_ERROR_FAILED,
                               "too many parameters (%d)", n_params);
      veza_db_job_free (job);
      return;
    }

  veza_db_push (db, job);
}

VezaDbResult *
veza_db_query_finish (VezaDb        *db,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (VEZA_IS_DB (db), NULL);
  g_return_val_if_fail (g_task_is_valid (result, db), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == veza_db_query_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
veza_db_ping_async (VezaDb              *db,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  VezaDbJob *job;

  g_return_if_fail (VEZA_IS_DB (db));

  job = g_new0 (VezaDbJob, 1);
  job->kind = VEZA_DB_JOB_PING;
  job->task = g_task_new (db, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, veza_db_ping_async);
  g_task_set_name (job->task, "veza_db_ping_async");
  job->sql = g_strdup ("SELECT 1");
  veza_db_push (db, job);
}

gboolean
veza_db_ping_finish (VezaDb        *db,
                     GAsyncResult  *result,
                     GError       **error)
{
  g_return_val_if_fail (VEZA_IS_DB (db), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, db), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == veza_db_ping_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
veza_db_is_available (VezaDb *db)
{
  g_return_val_if_fail (VEZA_IS_DB (db), FALSE);

  return g_atomic_int_get (&db->available) != 0;
}

void
veza_db_close (VezaDb *self)
{
  GThreadPool *workers;
  gboolean from_worker;

  g_return_if_fail (VEZA_IS_DB (self));

  from_worker = g_private_get (&in_worker) == self;

  g_mutex_lock (&self->lock);
  if (self->closed)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  self->closed = TRUE;
  workers = g_steal_pointer (&self->workers);

  if (!from_worker)
    {
      gint64 deadline = g_get_monotonic_time () + CLOSE_GRACE_US;

      while (self->n_running > 0)
        if (!g_cond_wait_until (&self->idle_cond, &self->lock, deadline))
          break;

      if (self->n_running > 0)
        {
          g_message ("cancelling %u running database statement(s)", self->n_running);
          for (guint i = 0; i < self->pool_size; i++)
            if (self->slots[i].busy && self->slots[i].cancel != NULL)
              {
                char errbuf[256];

                /* Best effort: a statement that cannot be cancelled still
                 * ends within the statement timeout. */
                if (!PQcancel (self->slots[i].cancel, errbuf, sizeof errbuf))
                  g_debug ("could not cancel a statement: %s", errbuf);
              }
        }
    }
  g_mutex_unlock (&self->lock);

  /* Jobs still queued see `closed` and fail at once. Running from a worker
   * (the worker dropped the last reference), that worker is the only job
   * left and is finishing; the pool frees itself when it returns. */
  if (workers != NULL)
    g_thread_pool_free (workers, FALSE, !from_worker);

  for (guint i = 0; i < self->pool_size; i++)
    veza_db_slot_drop (self, &self->slots[i]);
}

static void
veza_db_dispose (GObject *object)
{
  VezaDb *self = VEZA_DB (object);

  veza_db_close (self);

  G_OBJECT_CLASS (veza_db_parent_class)->dispose (object);
}

static void
veza_db_finalize (GObject *object)
{
  VezaDb *self = VEZA_DB (object);

  g_free (self->slots);
  g_async_queue_unref (self->free_slots);
  g_free (self->last_failure);
  g_free (self->conninfo);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->idle_cond);

  G_OBJECT_CLASS (veza_db_parent_class)->finalize (object);
}

static void
veza_db_class_init (VezaDbClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = veza_db_dispose;
  object_class->finalize = veza_db_finalize;
}

static void
veza_db_init (VezaDb *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->idle_cond);
  self->free_slots = g_async_queue_new ();
  self->available = 1;
}

VezaDb *
veza_db_new (const char *conninfo,
             guint       pool_size)
{
  VezaDb *self;
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (conninfo != NULL, NULL);

  if (pool_size == 0)
    pool_size = VEZA_DB_DEFAULT_POOL_SIZE;
  if (pool_size > VEZA_DB_MAX_POOL_SIZE)
    {
      g_message ("database pool size %u is too large; using %d", pool_size,
                 VEZA_DB_MAX_POOL_SIZE);
      pool_size = VEZA_DB_MAX_POOL_SIZE;
    }

  self = g_object_new (VEZA_TYPE_DB, NULL);
  self->conninfo = g_strdup (conninfo);
  self->pool_size = pool_size;
  self->slots = g_new0 (VezaDbSlot, pool_size);
  for (guint i = 0; i < pool_size; i++)
    g_async_queue_push (self->free_slots, &self->slots[i]);

  self->workers = g_thread_pool_new (veza_db_worker, NULL, (int) pool_size, FALSE, &error);
  /* A shared (non-exclusive) pool cannot fail to be created. */
  g_assert_no_error (error);

  return self;
}
