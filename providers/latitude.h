/* providers/latitude.h - what latitude.c (hosts), latitudeleft.c (the
 * plan's price, and what a create leaves besides the host) and
 * latitudeapi.c (the calls both make) share. Only those include it. */
#ifndef MVM_LATITUDE_H
#define MVM_LATITUDE_H

extern char la_project[128];

/* latitudeapi.c. Credentials into H's headers, the project into
 * la_project: 0, or -1 naming the variable to set. */
int latitude_init(struct http *h);
/* One call: 0 with *J (a 204 has none), 1 on a 404, -1 with mvm.err. */
int la_call(struct http *h, const char *what, const char *method,
            const char *path, const char *body, int flags, struct json **j);
/* Every page of the list at PATH, as cloud_pages(): a list ends at its
 * first empty page. */
int la_pages(struct http *h, const char *what, const char *path,
             cloud_page_fn each, void *arg);
/* DELETE PATH: 0 deleted or already gone, -1 with mvm.err. */
int la_delete(struct http *h, const char *what, const char *path);

/* A user_data object's description names its host and label, so a sweep
 * knows ours from the team's own: "mvm-label=L name=N". */
#define LA_UD_DESC "mvm-label=%s name=%s"

int latitude_price(struct http *h, const char *type, const char *region,
                   struct cloud_price *p);
int latitude_sweep(struct http *h, const char *label, const struct rec *r,
                   int n);

#endif
