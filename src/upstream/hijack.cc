#include "upstream/hijack.h"

namespace pipy::upstream {

Status DecideNewProject(const auth::Principal& who, std::string_view normalized,
                        const std::vector<std::string>& allow_shadowing,
                        const std::function<Result<bool>()>& exists_upstream,
                        const UpstreamWords& words) {
  if (who.IsAdmin()) {
    return Status::Ok();
  }
  for (const std::string& glob : allow_shadowing) {
    if (auth::GlobMatch(glob, normalized)) {
      return Status::Ok();
    }
  }
  Result<bool> exists = exists_upstream();
  const std::string name(normalized);
  const std::string thing(words.thing);
  const std::string where(words.where);
  if (!exists) {
    return Unavailable("cannot check whether " + thing + " '" + name + "' exists on the upstream " +
                       where + " (" + exists.error().message() + "); a new " + thing +
                       " is only created once that is known, retry later");
  }
  if (*exists) {
    return AlreadyExists(
        thing + " '" + name + "' exists on the upstream (public) " + where + "; an internal " +
        thing + " of that name would replace the public one for everyone installing through "
        "Pipy (dependency confusion). Use another name, have an admin token create the first "
        "release, or add the name to " + std::string(words.section) + " allow_shadowing");
  }
  return Status::Ok();
}

}  // namespace pipy::upstream
