/* veza-accounts.h — register, login, logout, me; bearer-token resolution
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "veza-server-private.h"

G_BEGIN_DECLS

void veza_accounts_register (VezaServer *server);

/* Adds a `user` object from the row's id, username, display_name,
 * created_at columns (with @prefix before each name, e.g. "u_") */
void veza_accounts_add_user_json (JsonBuilder  *builder,
                                  VezaDbResult *result,
                                  int           row,
                                  const char   *prefix);

G_END_DECLS
