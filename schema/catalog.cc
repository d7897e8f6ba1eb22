// The typed event catalog and the custom-type naming rule.
#include "schema/internal/catalog.h"

#include <algorithm>
#include <array>
#include <vector>

#include "schema/schema.h"

namespace tink::schema {
namespace {

constexpr EventTypeInfo kCatalog[] = {
    {"run.started", "RunStarted", "a run began: name, agent, model, task statement"},
    {"run.finished", "RunFinished", "a run ended: status (succeeded|failed|cancelled), error"},
    {"task.created", "TaskCreated", "a task exists: id, parent, name, priority"},
    {"task.ready", "TaskReady", "a task may be scheduled"},
    {"task.started", "TaskStarted", "a task began running"},
    {"task.yielded", "TaskYielded", "a running task gave the worker back (back to ready)"},
    {"task.waiting", "TaskWaiting", "a running task waits: sleep, io, or join on a task"},
    {"task.resumed", "TaskResumed", "a waiting task may run again (back to ready)"},
    {"task.succeeded", "TaskSucceeded", "a task finished successfully"},
    {"task.failed", "TaskFailed", "a task failed: error, retryable"},
    {"task.retried", "TaskRetried", "a failed task is retried (back to ready): attempt"},
    {"task.cancelled", "TaskCancelled", "a task was cancelled"},
    {"llm.request", "LlmRequest", "a call to a model: model, messages, params"},
    {"llm.response", "LlmResponse", "a model's answer: content, tool calls, tokens, latency"},
    {"llm.error", "LlmError", "a model call failed"},
    {"tool.call", "ToolCall", "the agent invoked a tool: tool, args"},
    {"tool.result", "ToolResult", "a tool's outcome: output, exit code, error"},
    {"tool.output", "ToolOutput", "a chunk of a tool's stdout or stderr as it arrived"},
    {"file.write", "FileWrite", "a file's whole new content (or a base-tree file)"},
    {"file.patch", "FilePatch", "a unified diff applied to a file's current content"},
    {"file.delete", "FileDelete", "a file was removed"},
    {"file.rename", "FileRename", "a file was moved"},
    {"memory.node", "MemoryNode", "a node of the memory graph: id, labels, props"},
    {"memory.edge", "MemoryEdge", "an edge: src, rel, dst, props, valid time"},
    {"memory.retract", "MemoryRetract", "a node or edge is no longer believed"},
    {"note", "Note", "free text: thoughts, summaries, final patches"},
};

constexpr std::array<std::string_view, 7> kReserved = {"run.",  "task.",   "llm.",   "tool.",
                                                       "file.", "memory.", "canvas."};

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// ([a-z][a-z0-9_-]*)(\.[a-z0-9_-]+)+
bool WellFormedCustom(std::string_view t) {
  if (t.empty() || t.size() > 128 || !(t[0] >= 'a' && t[0] <= 'z')) return false;
  size_t dots = 0;
  bool segment_empty = false;
  for (char c : t) {
    if (c == '.') {
      if (segment_empty) return false;
      ++dots;
      segment_empty = true;
    } else if (IsNameChar(c)) {
      segment_empty = false;
    } else {
      return false;
    }
  }
  return dots > 0 && !segment_empty;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::span<const EventTypeInfo> Catalog() { return kCatalog; }

const EventTypeInfo* FindCatalogType(std::string_view type) {
  for (const EventTypeInfo& t : kCatalog) {
    if (t.name == type) return &t;
  }
  return nullptr;
}

std::string ClosestName(std::string_view name, std::span<const std::string_view> candidates) {
  std::string_view best;
  size_t best_d = 3;  // suggest only within 2 edits: further away it is a guess, not a typo
  for (std::string_view c : candidates) {
    const size_t d = EditDistance(name, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return std::string(best);
}

Status CheckEventType(std::string_view type) {
  if (FindCatalogType(type) != nullptr) return Status::Ok();
  const bool reserved =
      type == "note" || std::any_of(kReserved.begin(), kReserved.end(),
                                    [&](std::string_view p) { return type.starts_with(p); });
  if (!reserved && WellFormedCustom(type)) return Status::Ok();

  std::string_view names[std::size(kCatalog)];
  for (size_t i = 0; i < std::size(kCatalog); ++i) names[i] = kCatalog[i].name;
  const std::string best = ClosestName(type, names);
  const std::string hint = best.empty() ? "" : " (did you mean '" + best + "'?)";
  if (reserved) {
    return Status::InvalidArgument("unknown event type '" + std::string(type) + "'" + hint +
                                   "; see docs/events.md for the catalog");
  }
  if (type.empty()) return Status::InvalidArgument("event has no type");
  return Status::InvalidArgument(
      "bad event type '" + std::string(type) + "'" + hint +
      ": a custom type is a lowercase dotted name such as 'myapp.deploy' (letters, digits, _ and "
      "-, at most 128 bytes), outside the catalog's namespaces");
}

}  // namespace tink::schema
