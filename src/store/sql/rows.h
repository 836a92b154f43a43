// Rows shared by the SQL store and the scale-out coordinator (store/postgres/coordinator.cc).
#pragma once

#include "store/sql/db.h"
#include "store/store.h"

namespace bluegate::store {

// The columns of webhook_deliveries that ReadDelivery reads, in its order.
extern const char* const kDeliveryColumns;
Delivery ReadDelivery(const Stmt& s);

}  // namespace bluegate::store
