/* veza-web.h — the web pages (/, /live/{id}, /live/go-live) and /static/
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "veza-server-private.h"

G_BEGIN_DECLS

void     veza_web_register        (VezaServer *server);
/* TRUE for the static file names the web directory may serve: lower-case
 * letters, digits, '.', '_' and '-', ending in .css, .js, .svg, .png, .ico
 * or .txt */
gboolean veza_web_file_name_valid (const char *name);

G_END_DECLS
