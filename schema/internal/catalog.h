// Catalog lookup shared by schema/ sources. Internal to schema/.
#pragma once
#include <string_view>

#include "schema/schema.h"

namespace tink::schema {
// The catalog entry for `type`, or nullptr for a custom type.
const EventTypeInfo* FindCatalogType(std::string_view type);
}  // namespace tink::schema
