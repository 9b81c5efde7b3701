/* veza-embedded-pg.h — a private PostgreSQL cluster in the data directory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define VEZA_EMBEDDED_PG_ERROR (veza_embedded_pg_error_quark ())
GQuark veza_embedded_pg_error_quark (void);

/**
 * VezaEmbeddedPgError:
 * @VEZA_EMBEDDED_PG_ERROR_NOT_FOUND: the PostgreSQL server programs (or the
 *   'postgres' system user, when running as root) are missing
 * @VEZA_EMBEDDED_PG_ERROR_UNREACHABLE: the cluster directory cannot be used
 *   by the user the cluster runs as
 * @VEZA_EMBEDDED_PG_ERROR_TIMEOUT: a PostgreSQL program did not finish in time
 * @VEZA_EMBEDDED_PG_ERROR_FAILED: any other failure (see the log file named
 *   in the message)
 */
typedef enum {
  VEZA_EMBEDDED_PG_ERROR_NOT_FOUND,
  VEZA_EMBEDDED_PG_ERROR_UNREACHABLE,
  VEZA_EMBEDDED_PG_ERROR_TIMEOUT,
  VEZA_EMBEDDED_PG_ERROR_FAILED,
} VezaEmbeddedPgError;

/* The port the cluster listens on. Only a Unix socket exists, in a private
 * directory, so a fixed number never clashes with another server. */
#define VEZA_EMBEDDED_PG_PORT 5432

#define VEZA_TYPE_EMBEDDED_PG (veza_embedded_pg_get_type ())
G_DECLARE_FINAL_TYPE (VezaEmbeddedPg, veza_embedded_pg, VEZA, EMBEDDED_PG, GObject)

/* @cluster_dir: the directory that holds the cluster (e.g.
 * <data-dir>/postgres); created when missing. */
VezaEmbeddedPg *veza_embedded_pg_new           (const char      *cluster_dir);

/* Synchronous, for start-up: initdb when needed, pg_ctl start (bounded),
 * create the database "veza" when missing. */
gboolean        veza_embedded_pg_start         (VezaEmbeddedPg  *self,
                                                GError         **error);

/* "host=<socket dir> port=<port> dbname=veza user=veza"; %NULL until started */
const char     *veza_embedded_pg_get_conninfo  (VezaEmbeddedPg  *self);

/* pg_ctl stop -m fast (bounded); idempotent; also done on dispose. */
void            veza_embedded_pg_stop          (VezaEmbeddedPg  *self);

/* Stop then start. */
gboolean        veza_embedded_pg_restart       (VezaEmbeddedPg  *self,
                                                GError         **error);

/* The file initdb and the server write to. */
const char     *veza_embedded_pg_get_log_path  (VezaEmbeddedPg  *self);

G_END_DECLS
