/* veza-fd-poller.c: many sockets behind one descriptor of the main loop
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GLib's main loop hands every descriptor of every source to poll() at
 * every iteration, and the kernel visits each of them each time: with one
 * socket per publisher, that is most of what an idle-looking iteration
 * costs.  The poller keeps the publishers' sockets in an epoll set and
 * gives the loop a single descriptor, that of the set, which becomes
 * readable when any socket in it is.  Its dispatch asks the set which ones
 * are ready (without waiting) and calls their functions.  The set is level
 * triggered: a socket that was not drained is reported again.
 *
 * A watch removed while the poller dispatches (a function closing another
 * connection) is only marked, and freed once the dispatch is over.  The
 * poller is reference counted: whoever holds a watch holds a reference.
 */

#include "veza-fd-poller.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <gio/gio.h>

#define MAX_EVENTS 64

struct _VezaFdWatch
{
  VezaFdPoller *poller;
  int fd;
  VezaFdFunc func;
  gpointer user_data;
  gboolean removed;
};

typedef struct
{
  GSource source;
  VezaFdPoller *poller;
} PollerSource;

struct _VezaFdPoller
{
  int epfd;
  GSource *source;
  gboolean dispatching;
  GPtrArray *dead;              /* VezaFdWatch* removed during a dispatch */
};

static GIOCondition
condition_from_epoll (guint32 events)
{
  GIOCondition condition = 0;

  if (events & EPOLLIN)
    condition |= G_IO_IN;
  if (events & EPOLLOUT)
    condition |= G_IO_OUT;
  if (events & EPOLLERR)
    condition |= G_IO_ERR;
  if (events & (EPOLLHUP | EPOLLRDHUP))
    condition |= G_IO_HUP;
  return condition;
}

static void
forget (VezaFdWatch *watch)
{
  VezaFdPoller *self = watch->poller;

  if (watch->removed)
    return;
  watch->removed = TRUE;
  /* closing the descriptor would drop it from the set too, but it may
   * outlive the watch */
  epoll_ctl (self->epfd, EPOLL_CTL_DEL, watch->fd, NULL);
  if (self->dispatching)
    g_ptr_array_add (self->dead, watch);
  else
    g_free (watch);
}

static gboolean
poller_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  VezaFdPoller *self = ((PollerSource *) source)->poller;
  struct epoll_event events[MAX_EVENTS];
  int n;

  do
    n = epoll_wait (self->epfd, events, MAX_EVENTS, 0);
  while (n < 0 && errno == EINTR);

  /* a function may drop the last reference to the poller */
  g_rc_box_acquire (self);
  self->dispatching = TRUE;
  for (int i = 0; i < n; i++)
    {
      VezaFdWatch *watch = events[i].data.ptr;

      if (watch->removed)
        continue;
      if (!watch->func (watch->fd, condition_from_epoll (events[i].events), watch->user_data))
        forget (watch);
    }
  self->dispatching = FALSE;
  g_ptr_array_set_size (self->dead, 0);
  veza_fd_poller_unref (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs poller_source_funcs = {
  .dispatch = poller_dispatch,
};

/**
 * veza_fd_poller_new:
 * @context: (nullable): where the poller dispatches (the default context
 *   when %NULL)
 *
 * Returns: (transfer full): a poller, or %NULL with @error set
 */
VezaFdPoller *
veza_fd_poller_new (GMainContext *context, GError **error)
{
  VezaFdPoller *self;
  int epfd = epoll_create1 (EPOLL_CLOEXEC);

  if (epfd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot create an epoll set: %s", g_strerror (saved_errno));
      return NULL;
    }

  self = g_rc_box_new0 (VezaFdPoller);
  self->epfd = epfd;
  self->dead = g_ptr_array_new_with_free_func (g_free);
  self->source = g_source_new (&poller_source_funcs, sizeof (PollerSource));
  ((PollerSource *) self->source)->poller = self;
  g_source_set_name (self->source, "veza-fd-poller");
  /* nothing in it runs the loop again: it may recurse, which spares the
   * loop taking the descriptor out of its set around each dispatch */
  g_source_set_can_recurse (self->source, TRUE);
  g_source_add_unix_fd (self->source, epfd, G_IO_IN);
  g_source_attach (self->source, context);
  return self;
}

static void
poller_clear (VezaFdPoller *self)
{
  g_source_destroy (self->source);
  g_source_unref (self->source);
  close (self->epfd);
  g_ptr_array_unref (self->dead);
}

VezaFdPoller *
veza_fd_poller_ref (VezaFdPoller *self)
{
  return g_rc_box_acquire (self);
}

/**
 * veza_fd_poller_unref:
 *
 * Drops a reference; the last one stops the poller, whose watches must
 * have been removed.
 */
void
veza_fd_poller_unref (VezaFdPoller *self)
{
  if (self != NULL)
    g_rc_box_release_full (self, (GDestroyNotify) poller_clear);
}

/**
 * veza_fd_poller_watch:
 * @fd: a descriptor the caller keeps open until the watch is removed
 * @func: called from the poller's context while @fd is readable (or hung
 *   up, or in error)
 *
 * Returns: (transfer none): the watch, valid until @func returns
 *   G_SOURCE_REMOVE or veza_fd_watch_remove(); %NULL with @error set
 */
VezaFdWatch *
veza_fd_poller_watch (VezaFdPoller *self,
                      int           fd,
                      VezaFdFunc    func,
                      gpointer      user_data,
                      GError      **error)
{
  VezaFdWatch *watch = g_new0 (VezaFdWatch, 1);
  struct epoll_event event = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = watch };

  watch->poller = self;
  watch->fd = fd;
  watch->func = func;
  watch->user_data = user_data;
  if (epoll_ctl (self->epfd, EPOLL_CTL_ADD, fd, &event) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot watch a socket: %s", g_strerror (saved_errno));
      g_free (watch);
      return NULL;
    }
  return watch;
}

/**
 * veza_fd_watch_remove:
 * @watch: (transfer full): a watch its function has not removed
 */
void
veza_fd_watch_remove (VezaFdWatch *watch)
{
  g_return_if_fail (watch != NULL);
  forget (watch);
}
