"""The readers' web site: server-rendered pages on the same services as the API.

The site is HTML forms and links (no JavaScript needed); every asset is served by Bookly itself
from `static/`. It stands on the domains (it calls the functions the API routes call, and never
writes SQL or a business rule of its own); no domain imports it.

How the parts fit:

- `routing.py`: `web_router()` makes every router of the site. Its routes resolve the visitor
  (`visitor.py`) and check the CSRF token of every POST (`csrf.py`) before anything else (in
  the route's handler, not as FastAPI dependencies), and their answers get the site's headers
  and cookies (`rendering.finish`).
- `visitor.py`: who is browsing. The session cookie names one of the API's own sessions (a row
  of `sessions`, revocable through `/api/v1/auth/sessions`), checked on every request as the
  bearer path checks a token. Route parameters: `OptionalWebUser`, `WebUser`,
  `VerifiedWebUser`, `AdminWebUser` (an `Account`) and `WebCaller` (with the session id).
- `rendering.py`: `page(request, "template.html", title=...)` renders a template of
  `templates/` (they extend `base.html`); `redirect(url)` answers 303; `with_notice(path, key)`
  asks the next page to show one of `NOTICES`; `safe_next` keeps a `next` on this site.
- `fields.py` (`field`, `error_summary`, `problem_box`) and `fragments.py` (a list's book cards
  and review items, ratings, tag links, pagers): the pieces templates repeat, as functions
  that templates call; a macro call costs Jinja several times as much (bench/README.md).
- `errors.py`: errors raised by a site route (or met by a browser at an unknown path) become
  HTML pages in the site's style; `SignInRequired` sends an anonymous visitor to sign in and back.
- `forms.py`: form text to the typed values the API's request models take, and their
  validation errors by field, for showing next to each input; `paging.py`: a link's cursor.
- Pages: `catalogue.py` (`/`), `books.py` (`/books/…`), `reviews.py`, `tags.py` (`/tags…`),
  `users.py` (`/users/{uid}`), `account.py` (sign in, sign up, sign out, resend the email).

To add a page:

1. In a module of this package, `router = web_router()`, then a route such as
   `@router.get("/things/{uid}")` whose parameters name the visitor it needs (`WebUser` sends an
   anonymous visitor to sign in) and the services it calls, and which returns
   `page(request, "things.html", title="…", thing=thing)`. Mark a GET that reads through a
   session (`SessionDep`) with `@read_only`, as the API does.
2. A form that changes something is `method="post"` and carries
   `<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">`; after the change,
   `redirect(with_notice("/things/…", "thing-saved"))`, with the notice's text added to
   `NOTICES` in `rendering.py`. Validation errors: re-render the form with `errors` by field
   (`forms.validated` with the API's request model) and the typed values, status 422; after a
   service refused a write (a conflict), `await db.rollback()` before rendering.
3. List the router in `site.py`'s `WEB_ROUTERS`; a link for signed-in visitors goes in
   `navigation.py`'s menus.
4. Test it in a real browser (tests/web): screenshots at both widths and the axe check
   (`tests/web/conftest.py`: `look_at`).
"""
