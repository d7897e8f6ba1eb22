#include "shell/query/exec.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <set>
#include <thread>
#include <unordered_map>

#include "schema/schema.h"
#include "shell/query/operators.h"

namespace tink::query {
namespace {

using internal::AggSpec;
using internal::MakeCount;
using internal::MakeFilter;
using internal::MakeGroup;
using internal::MakeLimit;
using internal::MakeParallelAggregate;
using internal::MakeSelect;
using internal::MakeSort;
using internal::SortSpec;

// ---- checking against the schema ------------------------------------------------------------

// A column of the rows flowing between two operators. type "" = unknown (select of a sub-path).
struct Column {
  std::string name;
  std::string type;
};

// The planner reports a user error by throwing PlanFailure; PrepareQuery catches it. It never
// leaves this file.
struct PlanFailure {
  QueryError error;
};

[[noreturn]] void Fail(Pos pos, std::string message) {
  throw PlanFailure{QueryError{pos, std::move(message)}};
}

std::string Hint(const std::string& s) { return s.empty() ? "" : " — did you mean '" + s + "'?"; }

bool TakesPaths(const std::string& type) {
  return type.empty() || type == "object" || type == "array";
}

// A compiled expression: fields resolved, literals checked and normalized, regexes compiled.
struct CExpr {
  Expr::Kind kind = Expr::Kind::kLiteral;
  CmpOp op = CmpOp::kEq;
  bool negated = false;
  bool null_test = false;  // kCompare with a literal null: `== null` / `!= null` test for null
  Json value;
  std::string path;
  std::shared_ptr<const re2::RE2> re;  // kMatch; RE2 matches are const and thread-safe
  std::vector<CExpr> args;
};

const Json* ValueOf(const CExpr& e, const Row& row) {
  return e.kind == Expr::Kind::kField ? Lookup(row, e.path) : &e.value;
}

bool Test(const CExpr& e, const Row& row) {
  switch (e.kind) {
    case Expr::Kind::kAnd:
      return std::all_of(e.args.begin(), e.args.end(),
                         [&](const CExpr& a) { return Test(a, row); });
    case Expr::Kind::kOr:
      return std::any_of(e.args.begin(), e.args.end(),
                         [&](const CExpr& a) { return Test(a, row); });
    case Expr::Kind::kNot:
      return !Test(e.args[0], row);
    case Expr::Kind::kIn: {
      const Json* v = ValueOf(e.args[0], row);
      const bool is_null = v == nullptr || v->is_null();
      bool found = false;
      for (size_t i = 1; i < e.args.size() && !found; ++i) {
        const Json& item = e.args[i].value;
        found = item.is_null() ? is_null : CompareValues(v, CmpOp::kEq, &item);
      }
      return found != e.negated;
    }
    case Expr::Kind::kCompare: {
      if (e.null_test) {
        const Json* v = e.args[0].kind == Expr::Kind::kLiteral && e.args[0].value.is_null()
                            ? ValueOf(e.args[1], row)
                            : ValueOf(e.args[0], row);
        const bool is_null = v == nullptr || v->is_null();
        return e.op == CmpOp::kEq ? is_null : !is_null;
      }
      const Json* a = ValueOf(e.args[0], row);
      if (e.op == CmpOp::kMatch) {
        return a != nullptr && a->is_string() &&
               re2::RE2::PartialMatch(a->get_ref<const std::string&>(), *e.re);
      }
      return CompareValues(a, e.op, ValueOf(e.args[1], row));
    }
    case Expr::Kind::kField:
    case Expr::Kind::kLiteral: {
      const Json* v = ValueOf(e, row);
      return v != nullptr && v->is_boolean() && v->get<bool>();
    }
  }
  return false;
}

class Planner {
 public:
  Planner(const SourceInfo& source) : source_(source) {
    for (const FieldInfo& f : source.fields) cols_.push_back({f.name, f.type});
  }

  std::vector<Column>& columns() { return cols_; }

  // Called when an operator replaces the columns (select, count, group by): field references
  // after it no longer name the source's fields.
  void Project() { projected_ = true; }
  bool projected() const { return projected_; }
  // The source fields referenced before the first projection: top-level names, or for a path
  // into an object its first key ("data.exit_code").
  const std::set<std::string>& used() const { return used_; }
  void Use(const std::string& top) {
    if (!projected_) used_.insert(top);
  }

  // The type of `path` in the current columns ("" when unknown), or a QueryError.
  std::string Resolve(const FieldRef& f) {
    for (const Column& c : cols_) {
      if (c.name == f.path) {
        Use(c.name);
        return c.type;
      }
    }
    const size_t dot = f.path.find('.');
    const std::string top = f.path.substr(0, dot);
    for (const Column& c : cols_) {
      if (c.name != top) continue;
      // A path below an object names the key it reads ("data.exit_code.x" reads data's
      // "exit_code"), so a scan may build only that part of the object.
      Use(TakesPaths(c.type) ? top + "." + f.path.substr(dot + 1, f.path.find('.', dot + 1) - dot - 1)
                             : top);
      if (!TakesPaths(c.type)) {
        Fail(f.pos, "field '" + top + "' is " + Article(c.type) + "; it has no field '" +
                        f.path.substr(dot + 1) + "'");
      }
      return "";
    }
    std::vector<std::string> names;
    for (const Column& c : cols_) names.push_back(c.name);
    std::string hint = Suggest(top, names);
    if (hint.empty() && dot == std::string::npos) {
      // `exit_code` on events most likely means the payload's data.exit_code.
      for (const Column& c : cols_) {
        if (c.type == "object") {
          hint = c.name + "." + f.path;
          break;
        }
      }
    }
    std::string msg = "unknown field '" + top + "'";
    if (!hint.empty()) {
      msg += Hint(hint);
    } else {
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
      msg += " (fields: " + list + ")";
    }
    Fail(f.pos, msg);
  }

  static std::string Article(const std::string& type) {
    if (type.empty()) return "a value";
    const bool vowel = std::string_view("aeiou").find(type[0]) != std::string_view::npos;
    return (vowel ? "an " : "a ") + type;
  }

  CExpr Compile(const Expr& e) {
    CExpr c;
    c.kind = e.kind;
    c.op = e.op;
    c.negated = e.negated;
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        c.value = e.value;
        return c;
      case Expr::Kind::kField: {
        c.path = e.field.path;
        const std::string type = Resolve(e.field);  // a bare field: a condition
        if (!type.empty() && type != "bool" && type != "object" && type != "array") {
          Fail(e.field.pos, "'" + e.field.path + "' is " + Article(type) +
                                ", not a condition: compare it (" + e.field.path + " == ...)");
        }
        return c;
      }
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr:
      case Expr::Kind::kNot:
        for (const auto& a : e.args) c.args.push_back(Compile(*a));
        return c;
      case Expr::Kind::kIn: {
        c.args.push_back(Operand(*e.args[0]));
        const std::string type = TypeOf(*e.args[0]);
        for (size_t i = 1; i < e.args.size(); ++i) {
          CExpr lit = Operand(*e.args[i]);
          lit.value = CheckLiteral(type, *e.args[0], CmpOp::kEq, *e.args[i]);
          c.args.push_back(std::move(lit));
        }
        return c;
      }
      case Expr::Kind::kCompare:
        return CompileCompare(e);
    }
    return c;
  }

  // A side of a comparison: a literal, or a field that must exist.
  CExpr Operand(const Expr& e) {
    CExpr c;
    c.kind = e.kind;
    if (e.kind == Expr::Kind::kField) {
      Resolve(e.field);
      c.path = e.field.path;
    } else {
      c.value = e.value;
    }
    return c;
  }

  std::string TypeOf(const Expr& operand) {
    return operand.kind == Expr::Kind::kField ? Resolve(operand.field) : "";
  }

  CExpr CompileCompare(const Expr& e) {
    CExpr c;
    c.kind = e.kind;
    c.op = e.op;
    c.args.push_back(Operand(*e.args[0]));
    c.args.push_back(Operand(*e.args[1]));
    const Expr& l = *e.args[0];
    const Expr& r = *e.args[1];
    const bool l_null = l.kind == Expr::Kind::kLiteral && l.value.is_null();
    const bool r_null = r.kind == Expr::Kind::kLiteral && r.value.is_null();
    c.null_test = (l_null || r_null) && (e.op == CmpOp::kEq || e.op == CmpOp::kNe);
    if (l.kind == Expr::Kind::kField && r.kind == Expr::Kind::kLiteral) {
      c.args[1].value = CheckLiteral(Resolve(l.field), l, e.op, r);
    } else if (r.kind == Expr::Kind::kField && l.kind == Expr::Kind::kLiteral) {
      if (e.op == CmpOp::kContains || e.op == CmpOp::kMatch) {
        Fail(r.pos, std::string("the right of '") + CmpOpName(e.op) + "' is a literal pattern");
      }
      c.args[0].value = CheckLiteral(Resolve(r.field), r, e.op, l);
    } else if (e.op == CmpOp::kMatch) {
      Fail(r.pos, "the right of '=~' is a literal pattern ('regex')");
    }
    if (e.op == CmpOp::kMatch) {
      if (!r.value.is_string()) Fail(r.pos, "'=~' needs a 'regex' (a string) on its right");
      // RE2, not std::regex: libstdc++'s matcher recurses once per input character (a long
      // string overflows the stack) and backtracks exponentially; RE2 runs in linear time and
      // bounded memory, and refuses what it cannot do so (backreferences, huge repeats).
      re2::RE2::Options opts;
      opts.set_log_errors(false);
      auto re = std::make_shared<const re2::RE2>(r.value.get<std::string>(), opts);
      if (!re->ok()) Fail(r.pos, "bad regex '" + r.value.get<std::string>() + "': " + re->error());
      c.re = std::move(re);
    }
    return c;
  }

  // Checks a literal compared with a field of a known type; returns it normalized (times in the
  // store's own format, so they compare correctly as strings).
  Json CheckLiteral(const std::string& type, const Expr& field, CmpOp op, const Expr& lit) const {
    const Json& v = lit.value;
    const bool order = op != CmpOp::kEq && op != CmpOp::kNe;
    const std::string opname = CmpOpName(op);
    if (v.is_null()) {
      if (order) Fail(lit.pos, "'" + opname + " null' is never true; use '== null' or '!= null'");
      return v;
    }
    if (op == CmpOp::kContains || op == CmpOp::kMatch) {
      if (!v.is_string()) Fail(lit.pos, "'" + opname + "' needs a 'string' on its right");
      if (!type.empty() && type != "string" && type != "time" && type != "object") {
        Fail(field.pos,
             "'" + opname + "' works on strings; '" + field.field.path + "' is " + Article(type));
      }
      return v;
    }
    const std::string& name = field.field.path;
    if (type == "int" || type == "float") {
      if (!v.is_number())
        Fail(lit.pos, "'" + name + "' is " + Article(type) + "; compare it with a number");
    } else if (type == "string") {
      if (!v.is_string()) Fail(lit.pos, "'" + name + "' is a string; compare it with a 'string'");
    } else if (type == "bool") {
      if (!v.is_boolean()) Fail(lit.pos, "'" + name + "' is a bool; compare it with true or false");
      if (order) Fail(lit.pos, "'" + name + "' is a bool; use == or !=");
    } else if (type == "time") {
      if (!v.is_string()) Fail(lit.pos, "'" + name + "' is a time; compare it with a 'time'");
      auto t = schema::ParseTime(v.get<std::string>());
      if (!t.ok()) Fail(lit.pos, t.status().message());
      return schema::FormatTime(*t);
    }
    return v;
  }

  void CheckUnique(const std::vector<std::pair<std::string, Pos>>& names) const {
    for (size_t i = 0; i < names.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (names[i].first == names[j].first) {
          Fail(names[i].second,
               "column '" + names[i].first + "' appears twice; rename it with 'as'");
        }
      }
    }
  }

  bool HasColumn(std::string_view name) const {
    return std::any_of(cols_.begin(), cols_.end(), [&](const Column& c) { return c.name == name; });
  }

 private:
  const SourceInfo& source_;
  std::vector<Column> cols_;
  bool projected_ = false;
  std::set<std::string> used_;
};

// ---- planning -------------------------------------------------------------------------------

// The conjuncts of `e` that a scan can use: field == literal, field in [literals], on a top-level
// field of the source (not a sub-path, not null).
void CollectPushdowns(const CExpr& e, const SourceInfo& src, std::vector<Pushdown>* out) {
  if (e.kind == Expr::Kind::kAnd) {
    for (const CExpr& a : e.args) CollectPushdowns(a, src, out);
    return;
  }
  auto is_source_field = [&](const CExpr& f) {
    if (f.kind != Expr::Kind::kField) return false;
    return std::any_of(src.fields.begin(), src.fields.end(), [&](const FieldInfo& fi) {
      return fi.name == f.path && fi.type != "object";
    });
  };
  if (e.kind == Expr::Kind::kCompare && e.op == CmpOp::kEq) {
    for (int side = 0; side < 2; ++side) {
      const CExpr& f = e.args[side];
      const CExpr& v = e.args[1 - side];
      if (is_source_field(f) && v.kind == Expr::Kind::kLiteral && !v.value.is_null()) {
        out->push_back(Pushdown{f.path, {v.value}});
        return;
      }
    }
  }
  if (e.kind == Expr::Kind::kIn && !e.negated && is_source_field(e.args[0])) {
    Pushdown p{e.args[0].path, {}};
    for (size_t i = 1; i < e.args.size(); ++i) {
      if (e.args[i].value.is_null()) return;
      p.values.push_back(e.args[i].value);
    }
    out->push_back(std::move(p));
  }
}

std::function<bool(const Row&)> BetweenFilter(const Point& from, const Point& to) {
  // Times compare as the store writes them (FormatTime), so the bounds are formatted once.
  struct Bound {
    Point::Kind kind;
    uint64_t lsn;
    std::string time;
  };
  auto bound = [](const Point& p) {
    return Bound{p.kind, p.lsn, p.kind == Point::Kind::kTime ? schema::FormatTime(p.time_ns) : ""};
  };
  auto within = [](const Bound& b, const Row& r, bool upper) {
    if (b.kind == Point::Kind::kNow) return true;
    if (b.kind == Point::Kind::kLsn) {
      const Json* v = Lookup(r, "lsn");
      if (v == nullptr || !v->is_number_unsigned()) return false;
      return upper ? v->get<uint64_t>() <= b.lsn : v->get<uint64_t>() >= b.lsn;
    }
    const Json* v = Lookup(r, "time");
    if (v == nullptr || !v->is_string()) return false;
    const std::string& t = v->get_ref<const std::string&>();
    return upper ? t <= b.time : t >= b.time;
  };
  return [lo = bound(from), hi = bound(to), within](const Row& r) {
    return within(lo, r, false) && within(hi, r, true);
  };
}

// One operator, checked against the columns and compiled to a stage that wraps a stream.
using Stage = std::function<std::unique_ptr<RowStream>(std::unique_ptr<RowStream>)>;

struct Plan {
  ScanRequest req;
  std::vector<Stage> stages;
  Pos open_pos;
  // When the query starts with where/between ops and then count or group by (stages[agg]), the
  // aggregate, for a parallel scan: each slice runs stages[0, agg) and the slices are merged.
  std::optional<size_t> agg;
  bool agg_count = false;
  std::vector<std::string> agg_keys;
  std::vector<AggSpec> agg_specs;
};

Plan MakePlan(const Query& q, const Cancel* cancel) {
  const SourceInfo* src = FindSource(q.source);
  if (src == nullptr) Fail(q.source_pos, "unknown source '" + q.source + "'");
  Plan plan;
  plan.req.source = src->name;
  plan.open_pos = q.source_pos;
  if (q.as_of) {
    if (!src->as_of)
      Fail(q.as_of->pos, "'" + src->name + "' has no history: 'as of' does not apply");
    plan.req.as_of = q.as_of;
    plan.open_pos = q.as_of->pos;
  }
  Planner pl(*src);
  bool prefix = true;  // still in the leading where/between ops, which a scan may narrow
  auto prefix_only = [&](size_t i) {  // ops before i are all where/between
    return std::all_of(q.ops.begin(), q.ops.begin() + static_cast<std::ptrdiff_t>(i),
                       [](const Op& o) {
                         return o.kind == Op::Kind::kWhere || o.kind == Op::Kind::kBetween;
                       });
  };
  for (size_t i = 0; i < q.ops.size(); ++i) {
    const Op& op = q.ops[i];
    if (op.kind != Op::Kind::kWhere && op.kind != Op::Kind::kBetween) prefix = false;
    switch (op.kind) {
      case Op::Kind::kWhere: {
        auto expr = std::make_shared<CExpr>(pl.Compile(*op.where));
        if (prefix) CollectPushdowns(*expr, *src, &plan.req.equals);
        plan.stages.push_back([expr, cancel](std::unique_ptr<RowStream> up) {
          return MakeFilter(
              std::move(up), [expr](const Row& r) { return Test(*expr, r); }, cancel);
        });
        break;
      }
      case Op::Kind::kBetween: {
        if (!src->between) {
          Fail(op.pos,
               "'between' works on events; '" + src->name + "' does not take it (use 'as of')");
        }
        for (const Point* p : {&op.from, &op.to}) {
          const char* need = p->kind == Point::Kind::kLsn ? "lsn" : "time";
          if (p->kind != Point::Kind::kNow && !pl.HasColumn(need)) {
            Fail(op.pos, std::string("'between' needs the field '") + need +
                             "'; put it before select, count and group by");
          }
        }
        pl.Use("lsn");
        pl.Use("time");
        if (prefix && !plan.req.between) plan.req.between = std::make_pair(op.from, op.to);
        if (!q.as_of) plan.open_pos = op.from.pos;
        // Applied here as well: a scan may narrow by LSN and still yield rows outside a time range.
        auto keep = BetweenFilter(op.from, op.to);
        plan.stages.push_back([keep, cancel](std::unique_ptr<RowStream> up) {
          return MakeFilter(std::move(up), keep, cancel);
        });
        break;
      }
      case Op::Kind::kSelect: {
        std::vector<std::string> paths, names;
        std::vector<std::pair<std::string, Pos>> seen;
        std::vector<Column> cols;
        for (const SelectItem& it : op.select) {
          const std::string type = pl.Resolve(it.field);
          paths.push_back(it.field.path);
          names.push_back(it.name);
          seen.emplace_back(it.name, it.name_pos);
          cols.push_back({it.name, type});
        }
        pl.CheckUnique(seen);
        pl.Project();
        pl.columns() = std::move(cols);
        plan.stages.push_back([paths, names](std::unique_ptr<RowStream> up) {
          return MakeSelect(std::move(up), paths, names);
        });
        break;
      }
      case Op::Kind::kSort: {
        std::vector<SortSpec> keys;
        for (const SortKey& k : op.sort) {
          pl.Resolve(k.field);
          keys.push_back({k.field.path, k.desc});
        }
        std::optional<uint64_t> keep;
        if (i + 1 < q.ops.size() && q.ops[i + 1].kind == Op::Kind::kLimit)
          keep = q.ops[i + 1].limit;
        plan.stages.push_back([keys, keep, cancel](std::unique_ptr<RowStream> up) {
          return MakeSort(std::move(up), keys, keep, cancel);
        });
        break;
      }
      case Op::Kind::kLimit: {
        const uint64_t n = op.limit;
        plan.stages.push_back(
            [n](std::unique_ptr<RowStream> up) { return MakeLimit(std::move(up), n); });
        break;
      }
      case Op::Kind::kCount:
        if (prefix_only(i)) {
          plan.agg = plan.stages.size();
          plan.agg_count = true;
        }
        pl.Project();
        pl.columns() = {{"count", "int"}};
        plan.stages.push_back(
            [cancel](std::unique_ptr<RowStream> up) { return MakeCount(std::move(up), cancel); });
        break;
      case Op::Kind::kGroup: {
        std::vector<std::string> keys;
        std::vector<AggSpec> aggs;
        std::vector<std::pair<std::string, Pos>> seen;
        std::vector<Column> cols;
        for (const FieldRef& f : op.group) {
          cols.push_back({f.path, pl.Resolve(f)});
          keys.push_back(f.path);
          seen.emplace_back(f.path, f.pos);
        }
        for (const Aggregate& a : op.aggs) {
          AggSpec spec{a.fn, a.field ? a.field->path : "", a.name};
          std::string type = a.fn == AggFn::kCount ? "int" : a.fn == AggFn::kAvg ? "float" : "";
          if (a.field) {
            const std::string ft = pl.Resolve(*a.field);
            const bool numeric = ft.empty() || ft == "int" || ft == "float" || ft == "object";
            if ((a.fn == AggFn::kSum || a.fn == AggFn::kAvg) && !numeric) {
              Fail(a.field->pos, std::string(AggFnName(a.fn)) + "() adds numbers; '" +
                                     a.field->path + "' is " + Planner::Article(ft));
            }
            if (a.fn == AggFn::kMin || a.fn == AggFn::kMax) type = ft;
            if (a.fn == AggFn::kSum) type = ft == "int" ? "int" : "";
          }
          aggs.push_back(std::move(spec));
          seen.emplace_back(a.name, a.pos);
          cols.push_back({a.name, type});
        }
        pl.CheckUnique(seen);
        pl.Project();
        pl.columns() = std::move(cols);
        if (prefix_only(i)) {
          plan.agg = plan.stages.size();
          plan.agg_keys = keys;
          plan.agg_specs = aggs;
        }
        plan.stages.push_back([keys, aggs, cancel](std::unique_ptr<RowStream> up) {
          return MakeGroup(std::move(up), keys, aggs, cancel);
        });
        break;
      }
    }
  }
  if (pl.projected()) plan.req.fields.emplace(pl.used().begin(), pl.used().end());
  return plan;
}

// Threads of a parallel count / group by: the machine's cores, at most 8; TINK_SCAN_THREADS
// overrides (1 turns parallel scans off).
size_t ScanThreads() {
  if (const char* env = std::getenv("TINK_SCAN_THREADS"); env != nullptr && *env != '\0') {
    return std::clamp<size_t>(std::strtoull(env, nullptr, 10), 1, 64);
  }
  return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
}

// A store's answer to a bad request (unknown run, LSN past the head) is the user's error.
bool IsUserError(const Status& s) { return s.IsInvalidArgument() || s.IsNotFound(); }

}  // namespace

Result<std::variant<Prepared, QueryError>> PrepareQuery(Provider& provider, std::string_view text,
                                                        const Cancel* cancel) {
  Parsed parsed = Parse(text);
  if (auto* e = std::get_if<QueryError>(&parsed)) return std::variant<Prepared, QueryError>(*e);
  if (auto* call = std::get_if<VerbCall>(&parsed)) {
    auto r = provider.RunVerb(*call, cancel);
    if (!r.ok()) {
      if (IsUserError(r.status()) && !IsCancelled(r.status())) {
        return std::variant<Prepared, QueryError>(QueryError{call->pos, r.status().message()});
      }
      return r.status();
    }
    return std::variant<Prepared, QueryError>(Prepared{std::move(r->rows), std::move(r->text)});
  }
  const Query& q = std::get<Query>(parsed);
  Plan plan;
  try {
    plan = MakePlan(q, cancel);
  } catch (PlanFailure& f) {
    return std::variant<Prepared, QueryError>(std::move(f.error));
  }
  // A count or group by right after the scan's filters runs on slices in parallel when the
  // provider splits the source (events, on a large enough log).
  std::vector<ScanRequest> slices;
  if (plan.agg) slices = provider.Split(plan.req, ScanThreads());
  if (slices.empty()) slices.push_back(plan.req);
  std::vector<std::unique_ptr<RowStream>> parts;
  for (const ScanRequest& slice : slices) {
    auto opened = provider.Open(slice, cancel);
    if (!opened.ok()) {
      if (IsUserError(opened.status()) && !IsCancelled(opened.status())) {
        return std::variant<Prepared, QueryError>(
            QueryError{plan.open_pos, opened.status().message()});
      }
      return opened.status();
    }
    parts.push_back(std::move(*opened));
  }
  std::unique_ptr<RowStream> stream;
  size_t first = 0;  // the first stage still to apply to `stream`
  if (parts.size() == 1) {
    stream = std::move(parts[0]);
  } else {
    for (std::unique_ptr<RowStream>& p : parts) {
      for (size_t i = 0; i < *plan.agg; ++i) p = plan.stages[i](std::move(p));
    }
    stream = MakeParallelAggregate(std::move(parts), plan.agg_count, plan.agg_keys,
                                   plan.agg_specs, cancel);
    first = *plan.agg + 1;
  }
  for (size_t i = first; i < plan.stages.size(); ++i) stream = plan.stages[i](std::move(stream));
  return std::variant<Prepared, QueryError>(Prepared{std::move(stream), std::nullopt});
}

}  // namespace tink::query
