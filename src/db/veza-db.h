/* veza-db.h — the PostgreSQL connection pool (internal part)
 *
 * The public part (queries, results, VEZA_DB_ERROR) is declared in
 * veza-plugin.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "veza-plugin.h"

G_BEGIN_DECLS

#define VEZA_DB_DEFAULT_POOL_SIZE 4
#define VEZA_DB_MAX_POOL_SIZE 64

/* Statements running longer than this are cancelled by the server. */
#define VEZA_DB_STATEMENT_TIMEOUT_MS 15000

/* Bound on establishing one connection, in seconds. */
#define VEZA_DB_CONNECT_TIMEOUT_S 3

/* Bound on a job's wait for a free connection, in seconds. */
#define VEZA_DB_QUEUE_TIMEOUT_S 30

/**
 * veza_db_new:
 * @conninfo: a libpq connection string or URI
 * @pool_size: the number of pooled connections, 0 for the default (4)
 *
 * Connections are opened on first use, so this never blocks and never
 * fails; an unreachable server shows up as %VEZA_DB_ERROR_UNAVAILABLE on
 * the first query. veza_db_is_available() is %TRUE until a query or ping
 * fails for want of a connection, and again once one reaches the server.
 *
 * Each query runs on whichever pooled connection is free: a transaction
 * cannot span several queries (use one statement, e.g. with CTEs); a
 * statement that leaves one open is rolled back. A query whose cancellable
 * is cancelled reports %G_IO_ERROR_CANCELLED, even if it already ran.
 *
 * Returns: (transfer full): a new #VezaDb
 */
VezaDb  *veza_db_new         (const char          *conninfo,
                              guint                pool_size);

/* Runs `SELECT 1` on a pooled connection; updates the availability. */
void     veza_db_ping_async  (VezaDb              *db,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data);
gboolean veza_db_ping_finish (VezaDb              *db,
                              GAsyncResult        *result,
                              GError             **error);

/* Stops taking queries, waits (bounded) for running ones, then closes the
 * pooled connections. Queries made afterwards fail with
 * %VEZA_DB_ERROR_UNAVAILABLE. Idempotent; also done on finalize. */
void     veza_db_close       (VezaDb              *db);

G_END_DECLS
