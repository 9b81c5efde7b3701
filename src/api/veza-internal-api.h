/* veza-internal-api.h — the internal API for external ingest servers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "veza-server-private.h"

G_BEGIN_DECLS

void veza_internal_api_register (VezaServer *server);

G_END_DECLS
