/** Time left to answer an offer, ticking each second. A timer region is not read out on every tick. */
import { useEffect, useState } from "react";

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export function secondsLeft(expiresAt: string, now: number): number {
  return Math.max(0, Math.ceil((Date.parse(expiresAt) - now) / 1000));
}

export function Countdown({ expiresAt }: { expiresAt: string }) {
  const left = secondsLeft(expiresAt, useNow(250));
  const urgent = left <= 5;
  return (
    <p role="timer" className={urgent ? "countdown countdown-urgent" : "countdown"} data-testid="offer-countdown" data-seconds-left={left}>
      {left > 0 ? `${left} s left to answer` : "Expiring…"}
    </p>
  );
}
