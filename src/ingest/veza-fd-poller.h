/* veza-fd-poller.h: many sockets behind one descriptor of the main loop
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VezaFdPoller VezaFdPoller;
typedef struct _VezaFdWatch VezaFdWatch;

/* Returns G_SOURCE_REMOVE to stop watching (the watch is then freed). */
typedef gboolean (*VezaFdFunc) (int fd, GIOCondition condition, gpointer user_data);

VezaFdPoller *veza_fd_poller_new     (GMainContext  *context,
                                      GError       **error);
VezaFdPoller *veza_fd_poller_ref     (VezaFdPoller  *self);
void          veza_fd_poller_unref   (VezaFdPoller  *self);
VezaFdWatch  *veza_fd_poller_watch   (VezaFdPoller  *self,
                                      int            fd,
                                      VezaFdFunc     func,
                                      gpointer       user_data,
                                      GError       **error);
void          veza_fd_watch_remove   (VezaFdWatch   *watch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VezaFdPoller, veza_fd_poller_unref)

G_END_DECLS
