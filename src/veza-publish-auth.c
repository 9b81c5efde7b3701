/* veza-publish-auth.c — a pending RTMP publish waiting for a plugin's answer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-server-private.h"

#include <sodium.h>
#include <string.h>

struct _VezaPublishAuth {
  GObject              parent_instance;
  char                *app;
  char                *key;
  char                *remote_address;
  VezaPublishAuthDone  done;
  gpointer             done_data;
  gboolean             answered;
};

G_DEFINE_FINAL_TYPE (VezaPublishAuth, veza_publish_auth, G_TYPE_OBJECT)

static void
veza_publish_auth_finalize (GObject *object)
{
  VezaPublishAuth *self = VEZA_PUBLISH_AUTH (object);

  /* A plugin that took the request and dropped it without an answer: deny,
   * so that the publisher is not left waiting. */
  if (!self->answered && self->done != NULL)
    self->done (self, FALSE, NULL, "not answered", self->done_data);

  g_free (self->app);
  if (self->key != NULL)
    sodium_memzero (self->key, strlen (self->key));
  g_free (self->key);
  g_free (self->remote_address);

  G_OBJECT_CLASS (veza_publish_auth_parent_class)->finalize (object);
}

static void
veza_publish_auth_class_init (VezaPublishAuthClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = veza_publish_auth_finalize;
}

static void
veza_publish_auth_init (VezaPublishAuth *self)
{
}

VezaPublishAuth *
veza_publish_auth_new (const char          *app,
                       const char          *key,
                       const char          *remote_address,
                       VezaPublishAuthDone  done,
                       gpointer             user_data)
{
  VezaPublishAuth *self = g_object_new (VEZA_TYPE_PUBLISH_AUTH, NULL);

  self->app = g_strdup (app);
  self->key = g_strdup (key);
  self->remote_address = g_strdup (remote_address);
  self->done = done;
  self->done_data = user_data;
  return self;
}

const char *
veza_publish_auth_get_key (VezaPublishAuth *auth)
{
  return auth->key;
}

const char *
veza_publish_auth_get_app (VezaPublishAuth *auth)
{
  return auth->app;
}

const char *
veza_publish_auth_get_remote_address (VezaPublishAuth *auth)
{
  return auth->remote_address;
}

gboolean
veza_publish_auth_is_answered (VezaPublishAuth *auth)
{
  return auth->answered;
}

void
veza_publish_auth_allow (VezaPublishAuth *auth,
                         const char      *stream_id)
{
  g_return_if_fail (VEZA_IS_PUBLISH_AUTH (auth));
  g_return_if_fail (stream_id != NULL);

  if (auth->answered)
    {
      g_critical ("publish authorisation answered twice");
      return;
    }
  auth->answered = TRUE;
  if (auth->done != NULL)
    auth->done (auth, TRUE, stream_id, NULL, auth->done_data);
}

void
veza_publish_auth_deny (VezaPublishAuth *auth,
                        const char      *reason)
{
  g_return_if_fail (VEZA_IS_PUBLISH_AUTH (auth));

  if (auth->answered)
    {
      g_critical ("publish authorisation answered twice");
      return;
    }
  auth->answered = TRUE;
  if (auth->done != NULL)
    auth->done (auth, FALSE, NULL, reason, auth->done_data);
}
