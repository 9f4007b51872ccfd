/* providers/localcg.h - each local host in a cgroup of its own
 * (providers/localcg.c, which knows nothing of local.c above it): made
 * before the fork and noted in the host's state, entered by the child,
 * removed with the host. Only providers/local.c includes this. */
#ifndef MVM_LOCALCG_H
#define MVM_LOCALCG_H

/* Make host ID's cgroups (none where the hierarchy is not writable), their
 * paths into LIST, one a line, for the host's state file "cgroups". */
void local_cgroup_make(const char *id, struct buf *list);
/* In the child, before exec: into the cgroups just made. */
void local_cgroup_enter(void);
/* Kill what is left in the cgroups the state directory DIR of host ID
 * notes, and remove them. */
void local_cgroup_rm(const char *id, const char *dir);

#endif
