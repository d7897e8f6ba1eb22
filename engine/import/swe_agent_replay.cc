// What one SWE-agent step did to the files (see swe_agent.cc for the mapping): the step's
// command is interpreted only as far as its observation shows it took effect.
#include <nlohmann/json.hpp>

#include "engine/import/import.h"
#include "engine/import/swe_agent_commands.h"
#include "engine/import/swe_agent_internal.h"
#include "projections/textdiff.h"

namespace tink::engine::import::swe {

Outcome Reader::Interpret(const Context& c) {
  if (c.tool == "create") {
    return Create(c);
  }
  if (c.tool == "edit" || c.tool == "insert") {
    return EditLike(c);
  }
  if (c.tool == "rm") {
    return Rm(c);
  }
  return Other(c);
}

void Reader::Edited(size_t i, const std::string& path, std::string next, Outcome* out) {
  if (auto v = swe::ParseView(steps_[i].obs_lf); v) {
    if (int64_t bad = swe::ViewMismatch(next, *v); bad != 0) {
      Warn(i,
           "replayed " + path + " differs from the recorded view at line " + std::to_string(bad));
    }
  }
  touched_.insert(path);
  out->ops.push_back({FileOp::Kind::kEdit, path, std::move(next), ""});
}

// `create F`: one empty line, like SWE-agent's create (the observation shows "(1 lines total)").
Outcome Reader::Create(const Context& c) {
  const std::string& obs = steps_[c.i].obs_lf;
  Outcome out;
  std::optional<std::string> f = Arg(c, "filename", 1);
  if (!f) {
    f = Arg(c, "path", 1);
  }
  if (!f || obs.starts_with("Error") || !swe::Contains(obs, "[File: ")) {
    out.error = swe::FirstLine(obs.empty() ? "create: no file created" : obs);
    return out;
  }
  Edited(c.i, ResolvePath(*f, c.cwd), "\n", &out);
  return out;
}

// `insert`, 1.x `edit SEARCH REPLACE`, 0.x `edit S:E`: on the open file, if the observation
// says the edit took effect.
Outcome Reader::EditLike(const Context& c) {
  const Step& st = steps_[c.i];
  const std::string& obs = st.obs_lf;
  Outcome out;
  const std::optional<swe::LineRange> range =
      c.tool == "edit" ? swe::ParseLineRange(st.action) : std::nullopt;
  if (!swe::EditAccepted(c.tool, range.has_value(), obs)) {
    out.error = swe::FirstLine(obs.empty() ? c.tool + ": not applied" : obs);
    return out;
  }
  std::string path;
  if (c.open_path) {
    path = *c.open_path;
  } else if (auto v = swe::ParseView(obs); v) {
    path = ResolvePath(v->path, c.cwd);
  } else {
    Warn(c.i, c.tool + " took effect but no open file is recorded; not replayed");
    return out;
  }
  touched_.insert(path);
  const std::string* cur = b_->File(path);
  const std::string unknown =
      c.tool + " of " + path + ", whose content is not known (no --base); not replayed";
  if (c.tool == "insert") {
    std::optional<std::string> text = Arg(c, "text", 1);
    std::optional<int64_t> line;
    int64_t n = 0;
    if (st.call_name == c.tool) {
      if (st.call_args.contains("line") && st.call_args["line"].is_number_integer()) {
        line = st.call_args["line"].get<int64_t>();
      }
    } else if (c.words.size() > 2 && swe::ParseCount(c.words[2], &n)) {
      line = n;
    }
    if (!text) {
      Warn(c.i, "insert without text; not replayed");
    } else if (cur == nullptr) {
      Warn(c.i, unknown);
    } else {
      Edited(c.i, path, swe::InsertText(*cur, *text, line), &out);
    }
    return out;
  }
  if (range) {
    if (cur == nullptr) {
      Warn(c.i, unknown);
    } else {
      Edited(c.i, path, swe::LineRangeEdit(*cur, range->start, range->end, range->text), &out);
    }
    return out;
  }
  std::optional<std::string> search = Arg(c, "search", 1), replace = Arg(c, "replace", 2);
  if (!search || !replace || search->empty()) {
    Warn(c.i, "edit without SEARCH and REPLACE; not replayed");
    return out;
  }
  // The observation says which mode ran. (SWE-agent parses the third argument with argparse
  // type=bool, so even `edit 'a' 'b' False` replaces all occurrences.)
  const bool all = obs.starts_with("Replaced ");
  const std::optional<swe::View> view = swe::ParseView(obs);
  if (cur != nullptr) {
    std::vector<size_t> at = swe::Occurrences(*cur, *search);
    if (all && !at.empty()) {
      Edited(c.i, path, swe::ReplaceAt(*cur, at, search->size(), *replace), &out);
      return out;
    }
    // One replacement: the occurrence the view printed after the edit agrees with.
    std::vector<std::string> fits;
    for (size_t p : at) {
      std::string next = swe::ReplaceAt(*cur, {p}, search->size(), *replace);
      if (!view || swe::ViewMismatch(next, *view) == 0) {
        fits.push_back(std::move(next));
      }
    }
    if (fits.size() == 1) {
      Edited(c.i, path, std::move(fits.front()), &out);
      return out;
    }
  }
  // Content unknown (or no single occurrence agrees): the hunk is rebuilt from the view.
  std::optional<std::string> hunk;
  if (view && !all) {
    hunk = swe::HunkFromView(*view, *search, *replace);
  }
  if (!hunk) {
    Warn(c.i,
         "edit of " + path + " cannot be located (content unknown or ambiguous); not replayed");
    return out;
  }
  Warn(c.i, path + (cur == nullptr ? " is not known (no --base)" : " does not match the view") +
                ": its patch is rebuilt from the recorded view");
  out.ops.push_back({FileOp::Kind::kPatch, path, std::move(*hunk), ""});
  return out;
}

// Only a plain `rm [-f] PATH...` whose observation shows no error is a deletion.
Outcome Reader::Rm(const Context& c) {
  const std::string& obs = steps_[c.i].obs_lf;
  Outcome out;
  if (obs.find_first_not_of(" \n") != std::string::npos &&
      !obs.starts_with("Your command ran successfully")) {
    out.error = swe::FirstLine(obs);
    return out;
  }
  std::string cmd = steps_[c.i].action;
  while (!cmd.empty() && cmd.back() == '\n') {
    cmd.pop_back();
  }
  std::optional<std::vector<std::string>> paths = swe::PlainRmPaths(cmd, c.words);
  if (!paths) {
    Warn(c.i, "`" + swe::CutChars(swe::FirstLine(cmd), 80) + "` may delete files; not replayed");
    unknown_changes_ = true;
    return out;
  }
  for (const std::string& p : *paths) {
    const std::string path = ResolvePath(p, c.cwd);
    out.ops.push_back({FileOp::Kind::kDelete, path, "", ""});
    touched_.insert(path);
  }
  return out;
}

// Viewing, searching and running commands. A whole-file view may reveal a file's content before
// the run; shell commands that may change files are not interpreted (import.h): a warning.
Outcome Reader::Other(const Context& c) {
  const Step& st = steps_[c.i];
  Outcome out;
  out.error = swe::ObservationError(st.obs_lf);
  if (out.error) {
    return out;
  }
  if (c.tool == "open" || c.tool == "goto" || c.tool == "scroll_up" || c.tool == "scroll_down") {
    RebuildFromView(c, &out);
  } else if (swe::MayChangeFiles(c.tool, st.action)) {
    Warn(c.i, "`" + swe::CutChars(swe::FirstLine(st.action), 80) +
                  "` may change files; shell commands are not replayed");
    unknown_changes_ = true;
  }
  return out;
}

// A view of a whole file the builder does not know yet (no --base) is the file's content before
// the run, provided nothing of this run can have changed it. When the final patch names the file,
// its "index" pre-image blob must match (with or without a final newline), else it is not used.
void Reader::RebuildFromView(const Context& c, Outcome* out) {
  auto v = swe::ParseView(steps_[c.i].obs_lf);
  if (!v || !v->Whole()) {
    return;
  }
  const std::string path = ResolvePath(v->path, c.cwd);
  if (b_->File(path) != nullptr || touched_.contains(path) || unknown_changes_) {
    return;
  }
  const std::string bare = swe::JoinLines(v->lines), with_nl = bare + "\n";
  auto it = submitted_.find(path);
  if (it == submitted_.end()) {
    Warn(c.i,
         "content of " + path + " before the run rebuilt from its view (final newline assumed)");
    out->ops.push_back({FileOp::Kind::kBase, path, with_nl, "100644"});
    touched_.insert(path);
    return;
  }
  const std::string& blob = it->second.blob;
  const std::string mode = it->second.mode.empty() ? "100644" : it->second.mode;
  for (const std::string* content : {&with_nl, &bare}) {
    if (!blob.empty() && projections::text::GitBlobId(*content).starts_with(blob)) {
      out->ops.push_back({FileOp::Kind::kBase, path, *content, mode});
      touched_.insert(path);
      return;
    }
  }
  Warn(c.i, "the view of " + path + " does not match the final patch's pre-image " + blob +
                "; not used as its content");
}

}  // namespace tink::engine::import::swe
