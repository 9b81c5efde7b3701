/* veza-log.c — log domains and debug topics
 *
 * Every part logs under its own domain (veza, veza-db, veza-rtmp, veza-media,
 * veza-<plugin>). Messages go through GLib's structured logging, so under
 * systemd they reach the journal with their fields. VEZA_DEBUG=db,rtmp turns
 * on debug messages for veza-db and veza-rtmp.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-log.h"

#include <string.h>

void
veza_log_init (void)
{
  const char *topics = g_getenv ("VEZA_DEBUG");
  const char *existing = g_getenv ("G_MESSAGES_DEBUG");
  g_auto(GStrv) parts = NULL;
  g_autoptr(GString) domains = NULL;

  if (topics == NULL || topics[0] == '\0')
    return;

  domains = g_string_new (existing != NULL ? existing : "");
  parts = g_strsplit_set (topics, ", ", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *t = parts[i];

      if (t[0] == '\0')
        continue;
      if (domains->len > 0)
        g_string_append_c (domains, ' ');
      if (g_str_equal (t, "all"))
        g_string_append (domains, "all");
      else if (g_str_equal (t, "core"))
        g_string_append (domains, "veza");
      else
        g_string_append_printf (domains, "veza-%s", t);
    }
  g_setenv ("G_MESSAGES_DEBUG", domains->str, TRUE);
}
