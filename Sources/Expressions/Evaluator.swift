import Columnar

/// Evaluates a bound tree over one batch, one whole column per node.
///
/// Arithmetic, comparisons, Boolean logic and IS NULL run as typed loops over contiguous buffers;
/// functions, CASE and casts go row by row over scalar values, which is slower but rarely hot.
struct Evaluator {
    let batch: RecordBatch
    let state: EvaluationState

    var count: Int { state.count }

    func evaluate(_ node: BoundNode) -> Column {
        switch node {
        case let .column(index, _): return batch.columns[index]
        case let .constant(value, type): return Column.constant(value, type: type, count: count)
        case let .arithmetic(op, l, r, type, span): return arithmetic(op, evaluate(l), evaluate(r), type, span)
        case let .compare(op, l, r): return compare(op, l, r)
        case let .and(l, r): return logical(evaluate(l), evaluate(r), isAnd: true)
        case let .or(l, r): return logical(evaluate(l), evaluate(r), isAnd: false)
        case let .not(e):
            let c = evaluate(e)
            return Column(type: .bool, buffer: .bool(c.boolValues.map { !$0 }), validity: c.validity)
        case let .isNull(e, negated):
            let c = evaluate(e)
            var out = [Bool](repeating: negated, count: count)
            if let validity = c.validity { for i in 0..<count { out[i] = validity[i] == negated } }
            return Column(type: .bool, buffer: .bool(out), validity: nil)
        case let .inList(e, items, negated): return inList(evaluate(e), items, negated: negated)
        case let .like(e, p, caseInsensitive, negated, span): return like(e, p, caseInsensitive, negated, span)
        case let .caseWhen(pairs, otherwise, type): return caseWhen(pairs, otherwise, type)
        case let .cast(e, type, span):
            let input = evaluate(e)
            if input.type.storage == type.storage, input.type == .json || type == .string && input.type == .json {
                return Column(type: type, buffer: input.buffer, validity: input.validity)
            }
            if let from = input.type.decimalScale, case let .decimal(precision, to) = type {
                return rescaled(input.exactValues, input.validity, from: from, to: to, precision: precision, type: type, span)
            }
            return rowwise([input], type: type, strict: true, span: span) { (v: [Value]) throws(RowFailure) -> Value in try Casts.cast(v[0], to: type) }
        case let .function(implementation, args, type, strict, span):
            return rowwise(args.map(evaluate), type: type, strict: strict, span: span, implementation)
        }
    }

    /// Integers or decimals as decimals of another scale, vectorized (rounding half away from zero when digits go).
    private func rescaled(_ values: [Int128], _ validity: Bitmap?, from: Int, to: Int, precision: Int, type: DataType, _ span: Span) -> Column {
        var out = [Int128](repeating: 0, count: count)
        for i in 0..<count where validity?[i] ?? true {
            guard let v = ExactDecimal.rescale(values[i], from: from, to: to).flatMap({ ExactDecimal.fitting($0, precision: precision) }) else {
                state.fail(row: i, .outOfRange("\(type)"), span: span)
                continue
            }
            out[i] = v
        }
        return Self.decimalColumn(out, type: type, validity: failedRowsCleared(validity))
    }

    /// Scaled values that fit `type` as its column: 128-bit past 18 digits, else 64-bit.
    static func decimalColumn(_ values: [Int128], type: DataType, validity: Bitmap?) -> Column {
        if type.storage == .int128 { return Column(type: type, buffer: .int128(values), validity: validity) }
        return Column(type: type, buffer: .int64(values.map { Int64(truncatingIfNeeded: $0) }), validity: validity)
    }

    // MARK: - Row-by-row fallback

    private func rowwise(_ inputs: [Column], type: DataType, strict: Bool, span: Span,
                         _ body: ([Value]) throws(RowFailure) -> Value) -> Column {
        var builder = ColumnBuilder(type: type, capacity: count)
        var args = [Value](repeating: .null, count: inputs.count)
        for row in 0..<count {
            var anyNull = false
            for (i, column) in inputs.enumerated() {
                args[i] = column.value(at: row)
                if args[i].isNull { anyNull = true }
            }
            if strict && anyNull { builder.appendNull(); continue }
            do {
                builder.append(try body(args))
            } catch {
                state.fail(row: row, error, span: span)
                builder.appendNull()
            }
        }
        return builder.finish()
    }

    // MARK: - Arithmetic

    private func arithmetic(_ op: BinaryOperator, _ l: Column, _ r: Column, _ type: DataType, _ span: Span) -> Column {
        let validity = Bitmap.intersect(l.validity, r.validity)
        if case let .decimal(precision, scale) = type {
            return decimalArithmetic(op, l, r, precision: precision, scale: scale, type: type, validity: validity, span)
        }
        if case .float64 = l.buffer, case .float64 = r.buffer {
            let a = l.float64Values, b = r.float64Values
            var out = [Double](repeating: 0, count: count)
            switch op {
            case .add: for i in 0..<count { out[i] = a[i] + b[i] }
            case .subtract: for i in 0..<count { out[i] = a[i] - b[i] }
            case .multiply: for i in 0..<count { out[i] = a[i] * b[i] }
            case .divide, .modulo:
                for i in 0..<count {
                    if b[i] == 0 {
                        if validity?[i] ?? true { state.fail(row: i, .divisionByZero, span: span) }
                        continue
                    }
                    out[i] = op == .divide ? a[i] / b[i] : a[i].truncatingRemainder(dividingBy: b[i])
                }
            default: preconditionFailure("not an arithmetic operator: \(op)")
            }
            return Column(type: .float64, buffer: .float64(out), validity: failedRowsCleared(validity))
        }
        let a = l.int64Values, b = r.int64Values
        var out = [Int64](repeating: 0, count: count)
        var overflow = false
        for i in 0..<count {
            let (v, o): (Int64, Bool)
            switch op {
            case .add: (v, o) = a[i].addingReportingOverflow(b[i])
            case .subtract: (v, o) = a[i].subtractingReportingOverflow(b[i])
            case .multiply: (v, o) = a[i].multipliedReportingOverflow(by: b[i])
            case .divide, .modulo:
                if b[i] == 0 {
                    if validity?[i] ?? true { state.fail(row: i, .divisionByZero, span: span) }
                    continue
                }
                (v, o) = op == .divide ? a[i].dividedReportingOverflow(by: b[i]) : a[i].remainderReportingOverflow(dividingBy: b[i])
            default: preconditionFailure("not an arithmetic operator: \(op)")
            }
            out[i] = v
            if o, validity?[i] ?? true {
                overflow = true
                state.fail(row: i, .outOfRange(type == .date ? "date" : "int64"), span: span)
            }
        }
        _ = overflow
        return Column(type: type, buffer: .int64(out), validity: failedRowsCleared(validity))
    }

    /// Exact decimal arithmetic: both sides' scaled integers (integers are decimals of scale 0) aligned in 128 bits,
    /// the result rounded half away from zero to the result scale (division) and checked against the result's
    /// precision (at most 38 digits); a result that does not fit is an error for that row.
    private func decimalArithmetic(_ op: BinaryOperator, _ l: Column, _ r: Column, precision: Int, scale: Int, type: DataType, validity: Bitmap?,
                                   _ span: Span) -> Column {
        let s1 = l.type.decimalScale ?? 0, s2 = r.type.decimalScale ?? 0
        // Money-sized operands and result (the common case) stay in 64-bit arrays: no widened copies.
        if case let .int64(a) = l.buffer, case let .int64(b) = r.buffer, type.storage == .int64 {
            let out: [Int64] = exactLoop(op, a, b, s1: s1, s2: s2, precision: precision, scale: scale, type: type, validity: validity, span) {
                Int64(truncatingIfNeeded: $0)
            }
            return Column(type: type, buffer: .int64(out), validity: failedRowsCleared(validity))
        }
        let out: [Int128] = exactLoop(op, l.exactValues, r.exactValues, s1: s1, s2: s2, precision: precision, scale: scale, type: type, validity: validity,
                                      span) { $0 }
        return Self.decimalColumn(out, type: type, validity: failedRowsCleared(validity))
    }

    /// The loop of `decimalArithmetic` over either width of operands, storing each result with `store`.
    @inline(__always)
    private func exactLoop<A: FixedWidthInteger & SignedInteger, B: FixedWidthInteger & SignedInteger, Out: FixedWidthInteger>(
        _ op: BinaryOperator, _ a: [A], _ b: [B], s1: Int, s2: Int, precision: Int, scale: Int, type: DataType, validity: Bitmap?, _ span: Span,
        _ store: (Int128) -> Out
    ) -> [Out] {
        var out = [Out](repeating: 0, count: count)
        // Factors that bring each side to the scale the operation works at.
        let (leftFactor, rightFactor): (Int128, Int128) = switch op {
        case .multiply: (1, 1)
        case .divide: (ExactDecimal.power(scale - s1 + s2) ?? 0, 1)
        default: (ExactDecimal.power(scale - s1) ?? 0, ExactDecimal.power(scale - s2) ?? 0)
        }
        for i in 0..<count where validity?[i] ?? true {
            let (x, o1) = Int128(truncatingIfNeeded: a[i]).multipliedReportingOverflow(by: leftFactor)
            let (y, o2) = Int128(truncatingIfNeeded: b[i]).multipliedReportingOverflow(by: rightFactor)
            var result: Int128?
            if !o1 && !o2 {
                switch op {
                case .add: result = x.addingReportingOverflow(y).overflow ? nil : x + y
                case .subtract: result = x.subtractingReportingOverflow(y).overflow ? nil : x - y
                case .multiply:
                    let (product, overflow) = x.multipliedReportingOverflow(by: y)
                    result = overflow ? nil : product
                case .divide, .modulo:
                    if y == 0 {
                        state.fail(row: i, .divisionByZero, span: span)
                        continue
                    }
                    result = op == .divide ? ExactDecimal.divide(x, y) : x % y
                default: preconditionFailure("not an arithmetic operator: \(op)")
                }
            }
            guard let result, let stored = ExactDecimal.fitting(result, precision: precision) else {
                state.fail(row: i, .outOfRange("\(type) (at most \(precision) digits)"), span: span)
                continue
            }
            out[i] = store(stored)
        }
        return out
    }

    /// Rows that failed evaluate to NULL.
    private func failedRowsCleared(_ validity: Bitmap?) -> Bitmap? {
        guard !state.rowErrors.isEmpty else { return validity }
        var v = validity ?? Bitmap(repeating: true, count: count)
        for row in state.rowErrors.keys { v.clear(row) }
        return v
    }

    // MARK: - Comparison

    private func compare(_ op: BinaryOperator, _ l: BoundNode, _ r: BoundNode) -> Column {
        let left = evaluate(l)
        // A constant string on the right compares without materializing a column of copies.
        if case let .constant(.string(s), _) = r, case let .bytes(buffer) = left.buffer {
            return compareBytes(op, left, buffer, Array(s.utf8))
        }
        let right = evaluate(r)
        let validity = Bitmap.intersect(left.validity, right.validity)
        var out = [Bool](repeating: false, count: count)
        switch (left.buffer, right.buffer) {
        case let (.int64(a), .int64(b)): Self.compareLoop(op, a, b, &out)
        case (.int128, _), (_, .int128): Self.compareLoop(op, left.exactValues, right.exactValues, &out)
        case let (.float64(a), .float64(b)): Self.compareLoop(op, a, b, &out)
        case let (.bool(a), .bool(b)): Self.compareLoop(op, a.map { $0 ? 1 : 0 }, b.map { $0 ? 1 : 0 }, &out)
        case let (.bytes(a), .bytes(b)):
            a.data.withUnsafeBufferPointer { ad in
                b.data.withUnsafeBufferPointer { bd in
                    for i in 0..<count {
                        let c = Self.lexicographic(UnsafeBufferPointer(rebasing: ad[a.range(i)]), UnsafeBufferPointer(rebasing: bd[b.range(i)]))
                        out[i] = Self.holds(op, c)
                    }
                }
            }
        default: preconditionFailure("comparison operands were not coerced to one type")
        }
        return Column(type: .bool, buffer: .bool(out), validity: validity)
    }

    private func compareBytes(_ op: BinaryOperator, _ left: Column, _ a: VariableWidthBuffer, _ constant: [UInt8]) -> Column {
        var out = [Bool](repeating: false, count: count)
        a.data.withUnsafeBufferPointer { data in
            constant.withUnsafeBufferPointer { k in
                a.offsets.withUnsafeBufferPointer { offsets in
                    if op == .equal || op == .notEqual {
                        let wantEqual = op == .equal
                        for i in 0..<count {
                            let start = offsets[i], length = offsets[i + 1] - start
                            let equal = length == k.count && (length == 0 || memcmp(data.baseAddress! + start, k.baseAddress!, length) == 0)
                            out[i] = equal == wantEqual
                        }
                    } else {
                        for i in 0..<count {
                            out[i] = Self.holds(op, Self.lexicographic(UnsafeBufferPointer(rebasing: data[offsets[i]..<offsets[i + 1]]), k))
                        }
                    }
                }
            }
        }
        return Column(type: .bool, buffer: .bool(out), validity: left.validity)
    }

    @inline(__always)
    static func compareLoop<T: Comparable>(_ op: BinaryOperator, _ a: [T], _ b: [T], _ out: inout [Bool]) {
        switch op {
        case .equal: for i in out.indices { out[i] = a[i] == b[i] }
        case .notEqual: for i in out.indices { out[i] = a[i] != b[i] }
        case .less: for i in out.indices { out[i] = a[i] < b[i] }
        case .lessOrEqual: for i in out.indices { out[i] = a[i] <= b[i] }
        case .greater: for i in out.indices { out[i] = a[i] > b[i] }
        case .greaterOrEqual: for i in out.indices { out[i] = a[i] >= b[i] }
        default: preconditionFailure("not a comparison: \(op)")
        }
    }

    /// Byte-wise comparison (C collation): negative, zero or positive.
    @inline(__always)
    static func lexicographic(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let n = min(a.count, b.count)
        if n > 0 {
            let c = memcmp(a.baseAddress!, b.baseAddress!, n)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }

    @inline(__always)
    static func holds(_ op: BinaryOperator, _ c: Int) -> Bool {
        switch op {
        case .equal: c == 0
        case .notEqual: c != 0
        case .less: c < 0
        case .lessOrEqual: c <= 0
        case .greater: c > 0
        default: c >= 0
        }
    }

    // MARK: - Boolean logic (three-valued, as SQL)

    private func logical(_ l: Column, _ r: Column, isAnd: Bool) -> Column {
        let a = l.boolValues, b = r.boolValues
        var out = [Bool](repeating: false, count: count)
        if l.validity == nil, r.validity == nil {
            if isAnd { for i in 0..<count { out[i] = a[i] && b[i] } } else { for i in 0..<count { out[i] = a[i] || b[i] } }
            return Column(type: .bool, buffer: .bool(out), validity: nil)
        }
        var validity = Bitmap(repeating: true, count: count)
        for i in 0..<count {
            let lv = !l.isNull(i), rv = !r.isNull(i)
            if isAnd {
                if (lv && !a[i]) || (rv && !b[i]) { out[i] = false } else if lv && rv { out[i] = true } else { validity.clear(i) }
            } else {
                if (lv && a[i]) || (rv && b[i]) { out[i] = true } else if lv && rv { out[i] = false } else { validity.clear(i) }
            }
        }
        return Column(type: .bool, buffer: .bool(out), validity: validity)
    }

    // MARK: - IN, LIKE, CASE

    private func inList(_ subject: Column, _ items: [BoundNode], negated: Bool) -> Column {
        let constants = items.compactMap(\.constantValue)
        var out = [Bool](repeating: false, count: count)
        var validity = subject.validity ?? Bitmap(repeating: true, count: count)
        if constants.count == items.count {
            let listHasNull = constants.contains { $0.isNull }
            let set = Set(constants.filter { !$0.isNull })
            for i in 0..<count where !subject.isNull(i) {
                let found = set.contains(subject.value(at: i))
                if !found && listHasNull { validity.clear(i) } else { out[i] = found != negated }
            }
            return Column(type: .bool, buffer: .bool(out), validity: validity)
        }
        let columns = items.map(evaluate)
        for i in 0..<count where !subject.isNull(i) {
            let v = subject.value(at: i)
            var found = false, sawNull = false
            for column in columns {
                let item = column.value(at: i)
                if item.isNull { sawNull = true } else if item == v { found = true; break }
            }
            if !found && sawNull { validity.clear(i) } else { out[i] = found != negated }
        }
        return Column(type: .bool, buffer: .bool(out), validity: validity)
    }

    private func like(_ subjectNode: BoundNode, _ patternNode: BoundNode, _ caseInsensitive: Bool, _ negated: Bool, _ span: Span) -> Column {
        let subject = evaluate(subjectNode)
        if subjectNode.isNullConstant || patternNode.isNullConstant { return Column.nulls(type: .bool, count: count) }
        var out = [Bool](repeating: false, count: count)
        let buffer = subject.byteValues
        if case let .string(p)? = patternNode.constantValue {
            let pattern = LikePattern(caseInsensitive ? p.lowercased() : p)
            buffer.data.withUnsafeBufferPointer { data in
                for i in 0..<count where !subject.isNull(i) {
                    if caseInsensitive {
                        var lowered = buffer.string(at: i).lowercased()
                        out[i] = lowered.withUTF8 { pattern.matches($0) } != negated
                    } else {
                        out[i] = pattern.matches(UnsafeBufferPointer(rebasing: data[buffer.range(i)])) != negated
                    }
                }
            }
            return Column(type: .bool, buffer: .bool(out), validity: subject.validity)
        }
        let patterns = evaluate(patternNode)
        for i in 0..<count where !subject.isNull(i) && !patterns.isNull(i) {
            let pattern = LikePattern(caseInsensitive ? patterns.byteValues.string(at: i).lowercased() : patterns.byteValues.string(at: i))
            var text = caseInsensitive ? buffer.string(at: i).lowercased() : buffer.string(at: i)
            out[i] = text.withUTF8 { pattern.matches($0) } != negated
        }
        return Column(type: .bool, buffer: .bool(out), validity: Bitmap.intersect(subject.validity, patterns.validity))
    }

    /// SQL's CASE: each row takes the first branch whose condition is true (else the ELSE). A condition counts
    /// only for rows no earlier branch took, and a result only for the rows that take it: the others' failures
    /// (division by zero in a branch a row does not take) are not errors.
    private func caseWhen(_ pairs: [(BoundNode, BoundNode)], _ otherwise: BoundNode, _ type: DataType) -> Column {
        let undecided = -1
        var taken = [Int](repeating: undecided, count: count)
        for (c, pair) in pairs.enumerated() {
            let condition = ignoring(taken.map { $0 != undecided }) { evaluate(pair.0) }
            for i in 0..<count where taken[i] == undecided && !condition.isNull(i) && condition.boolValues[i] { taken[i] = c }
        }
        for i in 0..<count where taken[i] == undecided { taken[i] = pairs.count }
        let results = pairs.enumerated().map { c, pair in ignoring(taken.map { $0 != c }) { evaluate(pair.1) } }
        let fallback = ignoring(taken.map { $0 != pairs.count }) { evaluate(otherwise) }
        var builder = ColumnBuilder(type: type, capacity: count)
        for i in 0..<count {
            builder.append(from: taken[i] < pairs.count ? results[taken[i]] : fallback, i)
        }
        return builder.finish()
    }

    /// Evaluates with failures in `skip` rows discarded (added to rows an enclosing CASE already discards).
    private func ignoring(_ skip: [Bool], _ body: () -> Column) -> Column {
        let saved = state.ignored
        state.ignored = saved.map { outer in zip(outer, skip).map { $0 || $1 } } ?? skip
        defer { state.ignored = saved }
        return body()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
