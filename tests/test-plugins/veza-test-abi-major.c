/* A plugin that claims another ABI major version: the loader refuses it. */
#include <veza-plugin.h>

static gboolean
init (VezaPluginContext *ctx, GError **error)
{
  g_error ("a plugin with another ABI major must never be initialised");
  return FALSE;
}

G_MODULE_EXPORT const VezaPluginDescriptor veza_plugin_descriptor = {
  VEZA_PLUGIN_ABI_MAJOR + 1, 0, "abi-major", "wrong major", "0", init, NULL, { NULL }
};
