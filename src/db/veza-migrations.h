/* veza-migrations.h — applying the numbered SQL migrations at start-up
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Where the migrations are compiled in: NNN_name.sql files. */
#define VEZA_MIGRATIONS_RESOURCE_PATH "/org/veza/migrations/"

/* The pg_advisory_lock key that serialises concurrent runs ("VezaMigr"). */
#define VEZA_MIGRATIONS_LOCK_KEY G_GINT64_CONSTANT (0x56657A614D696772)

/**
 * veza_migrations_run:
 * @conninfo: a libpq connection string or URI
 * @error: return location for a #VEZA_DB_ERROR
 *
 * Synchronous (start-up only). Under an advisory lock, applies every
 * migration resource not yet recorded in `schema_migrations`, in numeric
 * order, each in its own transaction together with its record. Several
 * processes may run this at once against one database.
 *
 * Returns: the number of migrations applied, or -1 with @error set
 */
gint veza_migrations_run (const char  *conninfo,
                          GError     **error);

G_END_DECLS
