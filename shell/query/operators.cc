#include "shell/query/operators.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <unordered_map>

#include "shell/query/exec.h"

namespace tink::query::internal {
namespace {

bool IsSet(const Cancel* c) { return c != nullptr && c->load(std::memory_order_relaxed); }

class FilterStream final : public RowStream {
 public:
  FilterStream(std::unique_ptr<RowStream> up, std::function<bool(const Row&)> keep,
               const Cancel* cancel)
      : up_(std::move(up)), keep_(std::move(keep)), cancel_(cancel) {}
  Result<bool> Next(Row* out) override {
    while (true) {
      if (IsSet(cancel_)) return Cancelled();
      ASSIGN_OR_RETURN(bool more, up_->Next(out));
      if (!more) return false;
      if (keep_(*out)) return true;
    }
  }
  std::vector<std::string> Columns() const override { return up_->Columns(); }

 private:
  std::unique_ptr<RowStream> up_;
  std::function<bool(const Row&)> keep_;
  const Cancel* cancel_;
};

class SelectStream final : public RowStream {
 public:
  SelectStream(std::unique_ptr<RowStream> up, std::vector<std::string> paths,
               std::vector<std::string> names)
      : up_(std::move(up)), paths_(std::move(paths)), names_(std::move(names)) {}
  Result<bool> Next(Row* out) override {
    ASSIGN_OR_RETURN(bool more, up_->Next(&in_));
    if (!more) return false;
    Row r = Row::object();
    for (size_t i = 0; i < paths_.size(); ++i) {
      const Json* v = Lookup(in_, paths_[i]);
      r[names_[i]] = v != nullptr ? *v : Json();
    }
    *out = std::move(r);
    return true;
  }
  std::vector<std::string> Columns() const override { return names_; }

 private:
  std::unique_ptr<RowStream> up_;
  std::vector<std::string> paths_, names_;
  Row in_;
};

class LimitStream final : public RowStream {
 public:
  LimitStream(std::unique_ptr<RowStream> up, uint64_t n) : up_(std::move(up)), left_(n) {}
  Result<bool> Next(Row* out) override {
    if (left_ == 0) return false;  // never pulls past the limit
    ASSIGN_OR_RETURN(bool more, up_->Next(out));
    if (!more) {
      left_ = 0;
      return false;
    }
    --left_;
    return true;
  }
  std::vector<std::string> Columns() const override { return up_->Columns(); }

 private:
  std::unique_ptr<RowStream> up_;
  uint64_t left_;
};

class CountStream final : public RowStream {
 public:
  CountStream(std::unique_ptr<RowStream> up, const Cancel* cancel)
      : up_(std::move(up)), cancel_(cancel) {}
  Result<bool> Next(Row* out) override {
    if (done_) return false;
    uint64_t n = 0;
    Row r;
    while (true) {  // one row at a time: nothing is kept
      if (IsSet(cancel_)) return Cancelled();
      ASSIGN_OR_RETURN(bool more, up_->Next(&r));
      if (!more) break;
      ++n;
    }
    done_ = true;
    *out = Row::object();
    (*out)["count"] = n;
    return true;
  }
  std::vector<std::string> Columns() const override { return {"count"}; }

 private:
  std::unique_ptr<RowStream> up_;
  const Cancel* cancel_;
  bool done_ = false;
};

class SortStream final : public RowStream {
 public:
  // keep: a limit right after the sort; only that many rows are ever held (plus a batch).
  SortStream(std::unique_ptr<RowStream> up, std::vector<SortSpec> keys,
             std::optional<uint64_t> keep, const Cancel* cancel)
      : up_(std::move(up)), keys_(std::move(keys)), keep_(keep), cancel_(cancel) {}
  Result<bool> Next(Row* out) override {
    if (!sorted_) {
      Row r;
      while (true) {
        if (IsSet(cancel_)) return Cancelled();
        ASSIGN_OR_RETURN(bool more, up_->Next(&r));
        if (!more) break;
        rows_.push_back(std::move(r));
        if (keep_ && rows_.size() >= 2 * *keep_ + 1024) Trim();
      }
      std::stable_sort(rows_.begin(), rows_.end(),
                       [this](const Row& a, const Row& b) { return Less(a, b); });
      if (keep_ && rows_.size() > *keep_) rows_.resize(*keep_);
      sorted_ = true;
    }
    if (next_ >= rows_.size()) return false;
    *out = std::move(rows_[next_++]);
    return true;
  }
  std::vector<std::string> Columns() const override { return up_->Columns(); }

 private:
  // Rows kept so far stay ahead of later ones, so a stable sort of the survivors is still stable.
  void Trim() {
    std::stable_sort(rows_.begin(), rows_.end(),
                     [this](const Row& a, const Row& b) { return Less(a, b); });
    rows_.resize(*keep_);
  }

  bool Less(const Row& a, const Row& b) const {
    for (const SortSpec& k : keys_) {
      const Json* x = Lookup(a, k.path);
      const Json* y = Lookup(b, k.path);
      const bool xn = x == nullptr || x->is_null(), yn = y == nullptr || y->is_null();
      if (xn || yn) {
        if (xn && yn) continue;
        return yn;  // nulls last, ascending or descending
      }
      const int c = OrderValues(*x, *y);
      if (c != 0) return k.desc ? c > 0 : c < 0;
    }
    return false;
  }

  std::unique_ptr<RowStream> up_;
  std::vector<SortSpec> keys_;
  std::optional<uint64_t> keep_;
  const Cancel* cancel_;
  std::vector<Row> rows_;
  bool sorted_ = false;
  size_t next_ = 0;
};

struct AggState {
  uint64_t n = 0;  // count, or values seen by sum/avg
  Json best;       // min/max
  bool int_sum = true;
  int64_t isum = 0;
  double dsum = 0;

  void Add(const AggSpec& spec, const Row& row) {
    if (spec.path.empty()) {
      ++n;
      return;
    }
    const Json* v = Lookup(row, spec.path);
    if (v == nullptr || v->is_null()) return;
    switch (spec.fn) {
      case AggFn::kCount:
        ++n;
        return;
      case AggFn::kMin:
      case AggFn::kMax: {
        const int c = best.is_null() ? 0 : OrderValues(*v, best);
        if (best.is_null() || (spec.fn == AggFn::kMin ? c < 0 : c > 0)) best = *v;
        return;
      }
      case AggFn::kSum:
      case AggFn::kAvg:
        if (!v->is_number()) return;  // sum and avg skip what is not a number
        ++n;
        dsum += v->get<double>();
        if (int_sum && v->is_number_integer() &&
            !(v->is_number_unsigned() && v->get<uint64_t>() > uint64_t{INT64_MAX})) {
          int_sum = !__builtin_add_overflow(isum, v->get<int64_t>(), &isum);
        } else {
          int_sum = false;
        }
        return;
    }
  }

  // Folds in the state of the same aggregate over later rows (a parallel scan's next slice).
  void Merge(const AggSpec& spec, const AggState& o) {
    switch (spec.fn) {
      case AggFn::kCount:
        n += o.n;
        return;
      case AggFn::kMin:
      case AggFn::kMax: {
        if (o.best.is_null()) return;
        const int c = best.is_null() ? 0 : OrderValues(o.best, best);
        if (best.is_null() || (spec.fn == AggFn::kMin ? c < 0 : c > 0)) best = o.best;
        return;
      }
      case AggFn::kSum:
      case AggFn::kAvg:
        n += o.n;
        dsum += o.dsum;
        int_sum = int_sum && o.int_sum && !__builtin_add_overflow(isum, o.isum, &isum);
        return;
    }
  }

  Json Result(const AggSpec& spec) const {
    switch (spec.fn) {
      case AggFn::kCount:
        return n;
      case AggFn::kMin:
      case AggFn::kMax:
        return best;
      case AggFn::kSum:
        if (n == 0) return Json();
        return int_sum ? Json(isum) : Json(dsum);
      case AggFn::kAvg:
        return n == 0 ? Json() : Json(dsum / static_cast<double>(n));
    }
    return Json();
  }
};

// The groups of a group by: rows go in one at a time; groups come out in order of first
// appearance. Merge appends a later slice's groups (a parallel scan), which keeps that order.
class Grouper {
 public:
  Grouper(const std::vector<std::string>& keys, const std::vector<AggSpec>& aggs)
      : keys_(keys), aggs_(aggs) {}

  void Add(const Row& r) {
    id_.clear();
    for (const std::string& k : keys_) AppendKey(Lookup(r, k), &id_);
    auto it = index_.find(id_);
    if (it == index_.end()) {
      Json key = Json::array();
      for (const std::string& k : keys_) {
        const Json* v = Lookup(r, k);
        key.push_back(v != nullptr ? *v : Json());
      }
      it = index_.emplace(id_, groups_.size()).first;
      groups_.push_back(Group{std::move(key), std::vector<AggState>(aggs_.size())});
    }
    Group& g = groups_[it->second];
    for (size_t i = 0; i < aggs_.size(); ++i) g.state[i].Add(aggs_[i], r);
  }

  void Merge(Grouper&& later) {
    for (auto& [id, at] : later.index_) {
      Group& theirs = later.groups_[at];
      auto it = index_.find(id);
      if (it == index_.end()) {
        continue;  // appended below, in the later slice's order
      }
      Group& ours = groups_[it->second];
      for (size_t i = 0; i < aggs_.size(); ++i) ours.state[i].Merge(aggs_[i], theirs.state[i]);
      theirs.merged = true;
    }
    for (Group& g : later.groups_) {
      if (g.merged) continue;
      std::string id;
      for (const Json& v : g.key) AppendKey(&v, &id);
      index_.emplace(std::move(id), groups_.size());
      groups_.push_back(std::move(g));
    }
  }

  size_t size() const { return groups_.size(); }

  Row Take(size_t i) {
    Group& g = groups_[i];
    Row r = Row::object();
    for (size_t k = 0; k < keys_.size(); ++k) r[keys_[k]] = std::move(g.key[k]);
    for (size_t a = 0; a < aggs_.size(); ++a) r[aggs_[a].name] = g.state[a].Result(aggs_[a]);
    return r;
  }

 private:
  struct Group {
    Json key;  // array, one value per key
    std::vector<AggState> state;
    bool merged = false;
  };

  // One value of a group's key, self-delimiting: strings (the common key) are copied as they
  // are, behind their length; anything else as its JSON text, behind a different tag.
  static void AppendKey(const Json* v, std::string* out) {
    if (v != nullptr && v->is_string()) {
      const std::string& s = v->get_ref<const std::string&>();
      out->push_back('s');
      out->append(std::to_string(s.size()));
      out->push_back(':');
      out->append(s);
      return;
    }
    const std::string text = v != nullptr ? v->dump() : "null";
    out->push_back('j');
    out->append(std::to_string(text.size()));
    out->push_back(':');
    out->append(text);
  }

  const std::vector<std::string>& keys_;
  const std::vector<AggSpec>& aggs_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<Group> groups_;
  std::string id_;  // the key of the row being added, rebuilt in place
};

class GroupStream final : public RowStream {
 public:
  GroupStream(std::unique_ptr<RowStream> up, std::vector<std::string> keys,
              std::vector<AggSpec> aggs, const Cancel* cancel)
      : up_(std::move(up)),
        keys_(std::move(keys)),
        aggs_(std::move(aggs)),
        cancel_(cancel),
        groups_(keys_, aggs_) {}
  Result<bool> Next(Row* out) override {
    if (!grouped_) {
      Row r;
      while (true) {
        if (IsSet(cancel_)) return Cancelled();
        ASSIGN_OR_RETURN(bool more, up_->Next(&r));
        if (!more) break;
        groups_.Add(r);
      }
      grouped_ = true;
    }
    if (next_ >= groups_.size()) return false;
    *out = groups_.Take(next_++);
    return true;
  }
  std::vector<std::string> Columns() const override { return GroupColumns(keys_, aggs_); }

  static std::vector<std::string> GroupColumns(const std::vector<std::string>& keys,
                                               const std::vector<AggSpec>& aggs) {
    std::vector<std::string> cols = keys;
    for (const AggSpec& a : aggs) cols.push_back(a.name);
    return cols;
  }

 private:
  std::unique_ptr<RowStream> up_;
  std::vector<std::string> keys_;
  std::vector<AggSpec> aggs_;
  const Cancel* cancel_;
  Grouper groups_;
  bool grouped_ = false;
  size_t next_ = 0;
};

// count or group by over slices of one scan, one thread per slice (the caller's thread takes the
// first), merged in slice order: the same rows as one stream over the slices in turn would give.
class ParallelAggregateStream final : public RowStream {
 public:
  ParallelAggregateStream(std::vector<std::unique_ptr<RowStream>> parts, bool count,
                          std::vector<std::string> keys, std::vector<AggSpec> aggs,
                          const Cancel* cancel)
      : parts_(std::move(parts)),
        count_(count),
        keys_(std::move(keys)),
        aggs_(std::move(aggs)),
        cancel_(cancel) {}

  Result<bool> Next(Row* out) override {
    if (!done_) {
      RETURN_IF_ERROR(Run());
      done_ = true;
    }
    if (count_) {
      if (next_ > 0) return false;
      ++next_;
      *out = Row::object();
      (*out)["count"] = total_;
      return true;
    }
    if (next_ >= groups_->size()) return false;
    *out = groups_->Take(next_++);
    return true;
  }
  std::vector<std::string> Columns() const override {
    return count_ ? std::vector<std::string>{"count"} : GroupStream::GroupColumns(keys_, aggs_);
  }

 private:
  Status Run() {
    const size_t n = parts_.size();
    // Each thread counts and groups into its own objects, allocated by that thread and published
    // once at its end: nothing a thread writes per row shares a cache line with another thread.
    std::vector<std::unique_ptr<Grouper>> partial(n);
    std::vector<uint64_t> counts(n, 0);
    std::vector<Status> errors(n);
    std::atomic<bool> failed{false};
    auto work = [&](size_t i) {
      auto groups = std::make_unique<Grouper>(keys_, aggs_);
      uint64_t count = 0;
      Row r;
      Status error;
      while (!failed.load(std::memory_order_relaxed)) {
        if (IsSet(cancel_)) {
          error = Cancelled();
          break;
        }
        Result<bool> more = parts_[i]->Next(&r);
        if (!more.ok()) {
          error = more.status();
          break;
        }
        if (!*more) break;
        if (count_) {
          ++count;
        } else {
          groups->Add(r);
        }
      }
      if (!error.ok()) failed = true;
      errors[i] = std::move(error);
      counts[i] = count;
      partial[i] = std::move(groups);
    };
    std::vector<std::thread> threads;
    for (size_t i = 1; i < n; ++i) threads.emplace_back(work, i);
    work(0);
    for (std::thread& t : threads) t.join();
    for (const Status& e : errors) RETURN_IF_ERROR(e);  // the first slice's error first
    for (uint64_t c : counts) total_ += c;
    if (!count_) {
      for (size_t i = 1; i < n; ++i) partial[0]->Merge(std::move(*partial[i]));
      groups_ = std::move(partial[0]);
    }
    return Status::Ok();
  }

  std::vector<std::unique_ptr<RowStream>> parts_;
  const bool count_;
  const std::vector<std::string> keys_;
  const std::vector<AggSpec> aggs_;
  const Cancel* cancel_;
  bool done_ = false;
  uint64_t total_ = 0;
  std::unique_ptr<Grouper> groups_;
  size_t next_ = 0;
};

}  // namespace

std::unique_ptr<RowStream> MakeFilter(std::unique_ptr<RowStream> up,
                                      std::function<bool(const Row&)> keep, const Cancel* cancel) {
  return std::make_unique<FilterStream>(std::move(up), std::move(keep), cancel);
}

std::unique_ptr<RowStream> MakeSelect(std::unique_ptr<RowStream> up, std::vector<std::string> paths,
                                      std::vector<std::string> names) {
  return std::make_unique<SelectStream>(std::move(up), std::move(paths), std::move(names));
}

std::unique_ptr<RowStream> MakeLimit(std::unique_ptr<RowStream> up, uint64_t n) {
  return std::make_unique<LimitStream>(std::move(up), n);
}

std::unique_ptr<RowStream> MakeCount(std::unique_ptr<RowStream> up, const Cancel* cancel) {
  return std::make_unique<CountStream>(std::move(up), cancel);
}

std::unique_ptr<RowStream> MakeSort(std::unique_ptr<RowStream> up, std::vector<SortSpec> keys,
                                    std::optional<uint64_t> keep, const Cancel* cancel) {
  return std::make_unique<SortStream>(std::move(up), std::move(keys), keep, cancel);
}

std::unique_ptr<RowStream> MakeGroup(std::unique_ptr<RowStream> up, std::vector<std::string> keys,
                                     std::vector<AggSpec> aggs, const Cancel* cancel) {
  return std::make_unique<GroupStream>(std::move(up), std::move(keys), std::move(aggs), cancel);
}

std::unique_ptr<RowStream> MakeParallelAggregate(std::vector<std::unique_ptr<RowStream>> parts,
                                                 bool count, std::vector<std::string> keys,
                                                 std::vector<AggSpec> aggs, const Cancel* cancel) {
  return std::make_unique<ParallelAggregateStream>(std::move(parts), count, std::move(keys),
                                                   std::move(aggs), cancel);
}

}  // namespace tink::query::internal
