// Timers on an io_context, against a Clock (the production Timers of core/timer.h).
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>

#include "core/clock.h"
#include "core/timer.h"

namespace bluegate::queue {

// Each timer waits on the io_context's steady clock for `at - clock.Now()` (at least 1 ms, so a
// time already reached is a short wait, never a busy loop), then posts its call.
std::unique_ptr<Timers> MakeAsioTimers(boost::asio::io_context& io, Clock& clock);

}  // namespace bluegate::queue
