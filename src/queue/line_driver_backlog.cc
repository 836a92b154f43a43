// The line driver's queue and its backlog in the store. The store is the queue: a line holds a
// window of the QUEUED messages it sends next (per kind: to known contacts, and first messages,
// so that known contacts never wait behind first messages held for a new-contact slot) and reads
// the rest in by id as the window empties. A restart reads no QUEUED message until its turn.
//
// Places: every QUEUED message the line knows of holds one place in depth_ (and a first message
// one in waiting_new_), whether it waits in the window or in the store. A message leaving the
// window gives its place back. Paging is told of most messages twice (their Enqueue, and the
// page that holds them); each is queued once, and each keeps one place.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "queue/line_driver.h"

namespace bluegate::queue {

carriers::OutboundMessage ToOutbound(const Message& m) {
  carriers::OutboundMessage out{m.id,       m.handle,      m.line_number, m.contact,
                                m.content,  m.media_url,   m.send_style,  std::nullopt,
                                m.group_id, m.participants};
  if (m.message_type == "group") out.service = Service::kIMessage;  // groups are iMessage
  out.account_id = m.account_id;
  return out;
}

std::deque<QueuedMessage> LineDriver::TakeWaiting() {
  std::deque<QueuedMessage> waiting;
  {
    std::lock_guard lock(queue_mu_);
    waiting = queue_.TakeAll();
  }
  depth_.store(0, std::memory_order_relaxed);
  waiting_new_.store(0, std::memory_order_relaxed);
  waiting_ids_.clear();
  // What waits in the store only follows the store (moved with the line, or failed with it).
  for (Backlog& b : backlog_) b = Backlog{};
  return waiting;
}

size_t LineDriver::held() const {
  std::lock_guard lock(queue_mu_);
  return queue_.size();
}

void LineDriver::Enqueue(QueuedMessage m) {
  if (m.new_contact && !m.already_accepted) waiting_new_.fetch_add(1, std::memory_order_relaxed);
  OnStrand([m = std::move(m)](LineDriver& self) mutable { self.Admit(std::move(m)); });
}

void LineDriver::Admit(QueuedMessage m) {
  const int64_t id = m.message.message_id;
  auto give_back = [&] {
    depth_.fetch_sub(1, std::memory_order_relaxed);
    if (m.new_contact && !m.already_accepted) waiting_new_.fetch_sub(1, std::memory_order_relaxed);
  };
  if (retired_) {
    give_back();
    hooks_.forward(id);
    return;
  }
  // A message already waiting here (announced by another node and also read from the store,
  // or paged in before its Enqueue arrived) waits once.
  if (!m.already_accepted && waiting_ids_.contains(id)) return give_back();
  Backlog& b = backlog_[m.new_contact ? 1 : 0];
  if (!m.already_accepted && id > b.cursor) {
    if (b.paged || queue_.waiting(m.new_contact) >= window_) {
      // Behind the window: it waits in the store, keeping its place, until a page reads it.
      b.paged = true;
      ++b.count;
      return;
    }
    b.cursor = id;
  }
  // (An id at or below the cursor that is not waiting here committed after the page that
  // passed it (ids are not in commit order across PostgreSQL nodes), or was already sent and
  // its second copy is refused by the store: it goes into the window either way.)
  if (!m.already_accepted) waiting_ids_.insert(id);
  Hold(std::move(m));
  Pump();
}

void LineDriver::Hold(QueuedMessage m) {
  if (carrier_) m.segments = std::max(1, carrier_->Segments(m.message));
  std::lock_guard lock(queue_mu_);
  queue_.Push(std::move(m));
}

void LineDriver::Resume(store::QueuedCount queued) {
  depth_.fetch_add(queued.known + queued.first, std::memory_order_relaxed);
  waiting_new_.fetch_add(queued.first, std::memory_order_relaxed);
  OnStrand([queued](LineDriver& self) {
    // From the oldest: whatever was already waiting here waits once.
    for (const auto& [kind, count] : {std::pair{0, queued.known}, std::pair{1, queued.first}}) {
      if (count == 0) continue;
      Backlog& b = self.backlog_[kind];
      b = Backlog{0, true, b.count + count};
    }
    self.Pump();
  });
}

void LineDriver::Rescan() {
  OnStrand([](LineDriver& self) {
    if (self.retired_) return;
    for (Backlog& b : self.backlog_) {
      b.cursor = 0;
      b.paged = true;
    }
    self.Pump();
  });
}

void LineDriver::PageIn() {
  for (bool first : {false, true}) {
    const Backlog& b = backlog_[first ? 1 : 0];
    if (b.paged && queue_.waiting(first) <= window_ / 2) PageIn(first);
  }
}

void LineDriver::PageIn(bool first) {
  Backlog& b = backlog_[first ? 1 : 0];
  while (b.paged && queue_.waiting(first) < window_) {
    const auto want = static_cast<int>(window_ - queue_.waiting(first));
    auto page = messages_.QueuedPage(line_.number, first, b.cursor, want);
    if (!page.ok()) {
      // The store cannot be read now: the messages stay QUEUED there; try again shortly.
      spdlog::error("line {}: cannot read its queued messages: {}", line_.number,
                    page.error().message);
      pump_timer_->ArmAt(clock_.Now() + reconnect_backoff_,
                         [self = shared_from_this()] { self->Pump(); });
      return;
    }
    for (Message& m : page.value()) {
      b.cursor = m.id;
      if (!waiting_ids_.insert(m.id).second) continue;
      if (b.count > 0) {
        --b.count;  // the place its Enqueue brought
      } else {
        // Its Enqueue is still on its way (and gives its own place back), or it never comes
        // (moved here, or announced by a node that died): the page brings its place.
        depth_.fetch_add(1, std::memory_order_relaxed);
        if (first) waiting_new_.fetch_add(1, std::memory_order_relaxed);
      }
      Hold(QueuedMessage{ToOutbound(m), false, m.new_contact});
    }
    if (std::ssize(page.value()) < want) {
      // The end of the store: what is still counted left QUEUED some other way (moved with a
      // removed line, failed by an operator) and gives its places back.
      depth_.fetch_sub(b.count, std::memory_order_relaxed);
      if (first) waiting_new_.fetch_sub(b.count, std::memory_order_relaxed);
      b.count = 0;
      b.paged = false;
    }
  }
}

}  // namespace bluegate::queue
