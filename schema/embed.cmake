# Writes the schema text into a header as a raw string literal: kEventFbs.
file(READ ${IN} TEXT)
file(WRITE ${OUT} "// Generated from event.fbs. Do not edit.\n#pragma once\nnamespace tink::schema::internal {\ninline constexpr const char kEventFbs[] = R\"TINKFBS(${TEXT})TINKFBS\";\n}\n")
