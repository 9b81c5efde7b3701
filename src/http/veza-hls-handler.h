/* veza-hls-handler.h — /hls/{id}/{file}
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "veza-server-private.h"

G_BEGIN_DECLS

void     veza_hls_handler_register (VezaServer *server);
/* TRUE for the names a stream folder may serve: live.m3u8, vod.m3u8,
 * segment-NNNNNN.ts */
gboolean veza_hls_file_name_valid  (const char *name);

G_END_DECLS
