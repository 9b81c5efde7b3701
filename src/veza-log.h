/* veza-log.h — log domains and debug topics
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads VEZA_DEBUG (comma-separated topics such as "db,rtmp,media", or
 * "all") and enables debug output for the matching log domains. */
void veza_log_init (void);

G_END_DECLS
