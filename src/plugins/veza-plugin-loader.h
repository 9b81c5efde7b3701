/* veza-plugin-loader.h — finds, checks and loads plugin modules
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "veza-server-private.h"

G_BEGIN_DECLS

#define VEZA_TYPE_PLUGIN_LOADER (veza_plugin_loader_get_type ())
G_DECLARE_FINAL_TYPE (VezaPluginLoader, veza_plugin_loader, VEZA, PLUGIN_LOADER, GObject)

VezaPluginLoader *veza_plugin_loader_new        (VezaServer       *server);
/* Loads every enabled plugin of the search path; returns how many loaded. */
guint             veza_plugin_loader_load_all   (VezaPluginLoader *self);
void              veza_plugin_loader_unload_all (VezaPluginLoader *self);
gboolean          veza_plugin_loader_is_loaded  (VezaPluginLoader *self,
                                                 const char       *name);
/* The directories searched: $VEZA_PLUGIN_PATH (uninstalled builds) or the
 * configured plugin dir. (transfer full) */
GStrv             veza_plugin_loader_get_search_path (VezaPluginLoader *self);

G_END_DECLS
