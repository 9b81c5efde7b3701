/* A plugin built against a newer minor ABI than this server: refused. */
#include <veza-plugin.h>

static gboolean
init (VezaPluginContext *ctx, GError **error)
{
  g_error ("a plugin with a newer ABI minor must never be initialised");
  return FALSE;
}

G_MODULE_EXPORT const VezaPluginDescriptor veza_plugin_descriptor = {
  VEZA_PLUGIN_ABI_MAJOR, VEZA_PLUGIN_ABI_MINOR + 1, "abi-minor", "newer minor", "0", init, NULL, { NULL }
};
