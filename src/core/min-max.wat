;; Extremes of unsigned 8- and 16-bit pixels with 128-bit SIMD: the min/max window of a frame in a
;; fraction of the time of a JavaScript loop. The caller copies the pixels into `memory`.
(module
  (memory (export "memory") 1)

  ;; min | max << 16 of the n uint16 values at byte offset $p (n >= 1).
  (func (export "minMaxU16") (param $p i32) (param $n i32) (result i32)
    (local $end i32) (local $vend i32) (local $lo v128) (local $hi v128) (local $v v128)
    (local $min i32) (local $max i32) (local $x i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 1))))
    (local.set $vend
      (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 1))))
    (local.set $lo (v128.const i32x4 -1 -1 -1 -1))
    (local.set $hi (v128.const i32x4 0 0 0 0))
    (block $done
      (loop $eight
        (br_if $done (i32.ge_u (local.get $p) (local.get $vend)))
        (local.set $v (v128.load align=2 (local.get $p)))
        (local.set $lo (i16x8.min_u (local.get $lo) (local.get $v)))
        (local.set $hi (i16x8.max_u (local.get $hi) (local.get $v)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $eight)))
    ;; Fold the eight lanes through memory-free shuffles: halves, quarters, pairs.
    (local.set $lo (i16x8.min_u (local.get $lo)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $lo) (local.get $lo))))
    (local.set $lo (i16x8.min_u (local.get $lo)
      (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $lo) (local.get $lo))))
    (local.set $lo (i16x8.min_u (local.get $lo)
      (i8x16.shuffle 2 3 0 1 2 3 0 1 2 3 0 1 2 3 0 1 (local.get $lo) (local.get $lo))))
    (local.set $hi (i16x8.max_u (local.get $hi)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $hi) (local.get $hi))))
    (local.set $hi (i16x8.max_u (local.get $hi)
      (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $hi) (local.get $hi))))
    (local.set $hi (i16x8.max_u (local.get $hi)
      (i8x16.shuffle 2 3 0 1 2 3 0 1 2 3 0 1 2 3 0 1 (local.get $hi) (local.get $hi))))
    (local.set $min (i16x8.extract_lane_u 0 (local.get $lo)))
    (local.set $max (i16x8.extract_lane_u 0 (local.get $hi)))
    ;; The last n % 8 values one by one.
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (i32.load16_u (local.get $p)))
        (if (i32.lt_u (local.get $x) (local.get $min)) (then (local.set $min (local.get $x))))
        (if (i32.gt_u (local.get $x) (local.get $max)) (then (local.set $max (local.get $x))))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $tail)))
    (i32.or (local.get $min) (i32.shl (local.get $max) (i32.const 16))))

  ;; min | max << 16 of the n uint8 values at byte offset $p (n >= 1).
  (func (export "minMaxU8") (param $p i32) (param $n i32) (result i32)
    (local $end i32) (local $vend i32) (local $lo v128) (local $hi v128) (local $v v128)
    (local $min i32) (local $max i32) (local $x i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (local.set $vend (i32.add (local.get $p) (i32.and (local.get $n) (i32.const -16))))
    (local.set $lo (v128.const i32x4 -1 -1 -1 -1))
    (local.set $hi (v128.const i32x4 0 0 0 0))
    (block $done
      (loop $sixteen
        (br_if $done (i32.ge_u (local.get $p) (local.get $vend)))
        (local.set $v (v128.load align=1 (local.get $p)))
        (local.set $lo (i8x16.min_u (local.get $lo) (local.get $v)))
        (local.set $hi (i8x16.max_u (local.get $hi) (local.get $v)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $sixteen)))
    (local.set $lo (i8x16.min_u (local.get $lo)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $lo) (local.get $lo))))
    (local.set $lo (i8x16.min_u (local.get $lo)
      (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $lo) (local.get $lo))))
    (local.set $lo (i8x16.min_u (local.get $lo)
      (i8x16.shuffle 2 3 0 1 2 3 0 1 2 3 0 1 2 3 0 1 (local.get $lo) (local.get $lo))))
    (local.set $lo (i8x16.min_u (local.get $lo)
      (i8x16.shuffle 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 (local.get $lo) (local.get $lo))))
    (local.set $hi (i8x16.max_u (local.get $hi)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $hi) (local.get $hi))))
    (local.set $hi (i8x16.max_u (local.get $hi)
      (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $hi) (local.get $hi))))
    (local.set $hi (i8x16.max_u (local.get $hi)
      (i8x16.shuffle 2 3 0 1 2 3 0 1 2 3 0 1 2 3 0 1 (local.get $hi) (local.get $hi))))
    (local.set $hi (i8x16.max_u (local.get $hi)
      (i8x16.shuffle 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 (local.get $hi) (local.get $hi))))
    (local.set $min (i8x16.extract_lane_u 0 (local.get $lo)))
    (local.set $max (i8x16.extract_lane_u 0 (local.get $hi)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (i32.load8_u (local.get $p)))
        (if (i32.lt_u (local.get $x) (local.get $min)) (then (local.set $min (local.get $x))))
        (if (i32.gt_u (local.get $x) (local.get $max)) (then (local.set $max (local.get $x))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $tail)))
    (i32.or (local.get $min) (i32.shl (local.get $max) (i32.const 16))))
)
