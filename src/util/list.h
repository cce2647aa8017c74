/*
 * util/list.h: intrusive doubly linked list (STYLE 2.5.7). Embed a
 * `struct list_node` and get back to the container with container_of.
 */
#ifndef BASALT_UTIL_LIST_H
#define BASALT_UTIL_LIST_H

#include "util/base.h"

struct list_node {
    struct list_node *next, *prev;
};

#define LIST_HEAD_INIT(name)                                                                       \
    {                                                                                              \
        &(name), &(name)                                                                           \
    }

static inline void
list_init(struct list_node *h)
{
    h->next = h->prev = h;
}

static inline bool
list_is_empty(const struct list_node *h)
{
    return h->next == h;
}

static inline void
list_add_tail(struct list_node *h, struct list_node *n)
{
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}

static inline void
list_del(struct list_node *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = n;
}

/* Removes and returns the first node, or NULL if empty. */
static inline struct list_node *
list_pop(struct list_node *h)
{
    struct list_node *n = h->next;

    if (n == h)
        return NULL;
    list_del(n);
    return n;
}

/* Moves every node of `from` to the tail of `to`; `from` becomes empty. */
static inline void
list_splice_tail(struct list_node *to, struct list_node *from)
{
    if (list_is_empty(from))
        return;
    from->next->prev = to->prev;
    to->prev->next = from->next;
    from->prev->next = to;
    to->prev = from->prev;
    list_init(from);
}

#endif
