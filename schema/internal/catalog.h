// Catalog lookup and name suggestions shared by schema/ sources. Internal to schema/.
#pragma once
#include <span>
#include <string>
#include <string_view>

#include "schema/schema.h"

namespace tink::schema {

// The catalog entry for `type`, or nullptr for a custom type.
const EventTypeInfo* FindCatalogType(std::string_view type);

// The candidate closest to `name` by edit distance when it is at most 2 edits away (a likely
// typo), else empty. Ties go to the earlier candidate.
std::string ClosestName(std::string_view name, std::span<const std::string_view> candidates);

}  // namespace tink::schema
