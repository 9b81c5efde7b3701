/* veza-plugin-loader.c — finds, checks and loads plugin modules
 *
 * Each plugin is a GModule with a `<name>.plugin` keyfile beside it:
 *
 *   [Plugin]
 *   Name=metrics
 *   Module=veza-metrics
 *   Description=Prometheus /metrics
 *
 * The keyfile is read first; a plugin disabled in the configuration is never
 * opened. The module must export `veza_plugin_descriptor` (VEZA_PLUGIN_DEFINE)
 * whose ABI major equals ours and whose minor is not newer; anything else is
 * refused with a log line saying why. VEZA_PLUGIN_PATH (colon-separated)
 * replaces the configured directory, and is searched one level deep, so tests
 * and developers can run against a build tree.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-plugin-loader.h"

#include <glib/gi18n.h>
#include <string.h>

struct _VezaPluginContext {
  VezaServer                 *server;
  char                       *name;
  char                       *group;
  GModule                    *module;
  const VezaPluginDescriptor *descriptor;
  gpointer                    data;
  GDestroyNotify              destroy;
};

struct _VezaPluginLoader {
  GObject     parent_instance;
  VezaServer *server;      /* not owned: the server owns the loader */
  GPtrArray  *plugins;     /* VezaPluginContext, in load order */
};

G_DEFINE_FINAL_TYPE (VezaPluginLoader, veza_plugin_loader, G_TYPE_OBJECT)

static void
context_free (VezaPluginContext *ctx)
{
  if (ctx->destroy != NULL)
    ctx->destroy (ctx->data);
  /* Modules stay resident: their code may still be referenced by signal
   * closures or routes until the process ends. */
  g_free (ctx->name);
  g_free (ctx->group);
  g_free (ctx);
}

static void
veza_plugin_loader_finalize (GObject *object)
{
  VezaPluginLoader *self = VEZA_PLUGIN_LOADER (object);

  veza_plugin_loader_unload_all (self);
  g_ptr_array_unref (self->plugins);
  G_OBJECT_CLASS (veza_plugin_loader_parent_class)->finalize (object);
}

static void
veza_plugin_loader_class_init (VezaPluginLoaderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = veza_plugin_loader_finalize;
}

static void
veza_plugin_loader_init (VezaPluginLoader *self)
{
  self->plugins = g_ptr_array_new ();
}

VezaPluginLoader *
veza_plugin_loader_new (VezaServer *server)
{
  VezaPluginLoader *self = g_object_new (VEZA_TYPE_PLUGIN_LOADER, NULL);

  self->server = server;
  return self;
}

/* ---- the context handed to plugins -------------------------------------- */

VezaServer *
veza_plugin_context_get_server (VezaPluginContext *ctx)
{
  return ctx->server;
}

const char *
veza_plugin_context_get_name (VezaPluginContext *ctx)
{
  return ctx->name;
}

GKeyFile *
veza_plugin_context_get_config (VezaPluginContext *ctx)
{
  return veza_server_get_config (ctx->server)->keyfile;
}

const char *
veza_plugin_context_get_config_group (VezaPluginContext *ctx)
{
  return ctx->group;
}

void
veza_plugin_context_set_data (VezaPluginContext *ctx,
                              gpointer           data,
                              GDestroyNotify     destroy)
{
  if (ctx->destroy != NULL)
    ctx->destroy (ctx->data);
  ctx->data = data;
  ctx->destroy = destroy;
}

gpointer
veza_plugin_context_get_data (VezaPluginContext *ctx)
{
  return ctx->data;
}

/* ---- loading ------------------------------------------------------------ */

GStrv
veza_plugin_loader_get_search_path (VezaPluginLoader *self)
{
  const char *env = g_getenv ("VEZA_PLUGIN_PATH");

  if (env != NULL && env[0] != '\0')
    return g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
  return g_strsplit (veza_server_get_config (self->server)->plugin_dir, G_SEARCHPATH_SEPARATOR_S, -1);
}

gboolean
veza_plugin_loader_is_loaded (VezaPluginLoader *self,
                              const char       *name)
{
  for (guint i = 0; i < self->plugins->len; i++)
    {
      VezaPluginContext *ctx = g_ptr_array_index (self->plugins, i);
      if (g_str_equal (ctx->name, name))
        return TRUE;
    }
  return FALSE;
}

static gboolean
name_valid (const char *name)
{
  gsize len = name != NULL ? strlen (name) : 0;

  if (len == 0 || len > 64)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (name[i]) && name[i] != '-' && name[i] != '_')
      return FALSE;
  return TRUE;
}

static void
load_one (VezaPluginLoader *self,
          const char       *dir,
          const char       *keyfile_path)
{
  VezaConfig *config = veza_server_get_config (self->server);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *module_name = NULL;
  g_autofree char *module_path = NULL;
  GModule *module;
  gpointer symbol = NULL;
  const VezaPluginDescriptor *desc;
  VezaPluginContext *ctx;

  if (!g_key_file_load_from_file (kf, keyfile_path, G_KEY_FILE_NONE, &error))
    {
      g_warning (_("Plugin description %s is unreadable: %s"), keyfile_path, error->message);
      return;
    }
  name = g_key_file_get_string (kf, "Plugin", "Name", NULL);
  module_name = g_key_file_get_string (kf, "Plugin", "Module", NULL);
  if (!name_valid (name) || !name_valid (module_name))
    {
      g_warning (_("Plugin description %s lacks a valid Name or Module"), keyfile_path);
      return;
    }

  if (veza_config_plugin_disabled (config, name))
    {
      g_message (_("plugin %s is disabled in the configuration"), name);
      return;
    }
  if (veza_plugin_loader_is_loaded (self, name))
    {
      g_debug ("plugin %s already loaded from an earlier directory; skipping %s", name, dir);
      return;
    }

  {
    /* Not g_module_build_path(): plugin modules have no "lib" prefix. */
    g_autofree char *file = g_strconcat (module_name, "." G_MODULE_SUFFIX, NULL);
    module_path = g_build_filename (dir, file, NULL);
  }
  module = g_module_open (module_path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (module == NULL)
    {
      g_warning (_("Plugin %s could not be opened: %s"), name, g_module_error ());
      return;
    }

  if (!g_module_symbol (module, VEZA_PLUGIN_DESCRIPTOR_SYMBOL, &symbol) || symbol == NULL)
    {
      g_warning (_("Plugin %s (%s) has no %s symbol; not loaded"), name, module_path,
                 VEZA_PLUGIN_DESCRIPTOR_SYMBOL);
      g_module_close (module);
      return;
    }
  desc = symbol;

  if (desc->abi_major != VEZA_PLUGIN_ABI_MAJOR || desc->abi_minor > VEZA_PLUGIN_ABI_MINOR)
    {
      g_warning (_("Plugin %s was built for plugin ABI %u.%u, but this vezad provides %u.%u;"
                   " not loaded (rebuild the plugin against this version)"),
                 name, desc->abi_major, desc->abi_minor,
                 VEZA_PLUGIN_ABI_MAJOR, VEZA_PLUGIN_ABI_MINOR);
      g_module_close (module);
      return;
    }
  if (desc->name == NULL || !g_str_equal (desc->name, name) || desc->init == NULL)
    {
      g_warning (_("Plugin %s: its descriptor names “%s” or has no init function; not loaded"),
                 name, desc->name != NULL ? desc->name : "");
      g_module_close (module);
      return;
    }

  ctx = g_new0 (VezaPluginContext, 1);
  ctx->server = self->server;
  ctx->name = g_strdup (name);
  ctx->group = g_strconcat ("plugin:", name, NULL);
  ctx->module = module;
  ctx->descriptor = desc;

  if (!desc->init (ctx, &error))
    {
      g_warning (_("Plugin %s failed to start: %s"), name,
                 error != NULL ? error->message : _("unknown error"));
      context_free (ctx);
      g_module_close (module);
      return;
    }

  g_module_make_resident (module);
  g_ptr_array_add (self->plugins, ctx);
  g_message (_("plugin %s %s loaded"), name, desc->version != NULL ? desc->version : "");
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
scan_dir (VezaPluginLoader *self,
          const char       *dir,
          guint             depth)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = NULL;
  const char *entry;

  if (d == NULL)
    return;

  /* Sorted, so that the load order does not depend on the file system. */
  names = g_ptr_array_new_with_free_func (g_free);
  while ((entry = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (entry));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char *n = g_ptr_array_index (names, i);
      g_autofree char *path = g_build_filename (dir, n, NULL);

      if (g_str_has_suffix (n, ".plugin") && g_file_test (path, G_FILE_TEST_IS_REGULAR))
        load_one (self, dir, path);
      else if (depth > 0 && g_file_test (path, G_FILE_TEST_IS_DIR))
        scan_dir (self, path, depth - 1);
    }
}

guint
veza_plugin_loader_load_all (VezaPluginLoader *self)
{
  g_auto(GStrv) path = veza_plugin_loader_get_search_path (self);
  gboolean uninstalled = g_getenv ("VEZA_PLUGIN_PATH") != NULL;

  if (!g_module_supported ())
    {
      g_warning (_("This system cannot load modules; no plugins"));
      return 0;
    }
  for (guint i = 0; path[i] != NULL; i++)
    if (path[i][0] != '\0')
      scan_dir (self, path[i], uninstalled ? 1 : 0);
  return self->plugins->len;
}

void
veza_plugin_loader_unload_all (VezaPluginLoader *self)
{
  /* Reverse order: later plugins may use what earlier ones set up. */
  for (guint i = self->plugins->len; i > 0; i--)
    {
      VezaPluginContext *ctx = g_ptr_array_index (self->plugins, i - 1);

      if (ctx->descriptor->shutdown != NULL)
        ctx->descriptor->shutdown (ctx);
      context_free (ctx);
    }
  g_ptr_array_set_size (self->plugins, 0);
}
