import Foundation

/// One page of a list answer: `{"data": [...], "next_cursor": "..." | null}`.
package struct Page<Item: Sendable>: Sendable {
    package let data: [Item]
    package let nextCursor: Cursor?
    package let total: Int?

    package init(data: [Item], nextCursor: Cursor?, total: Int? = nil) {
        self.data = data
        self.nextCursor = nextCursor
        self.total = total
    }
}

extension Page {
    /// The page for `items` fetched with `limit + 1`: the extra item only tells that there is a next page, whose
    /// cursor is the `position` of the last item kept.
    package init(overfetched items: [Item], limit: Int, position: (Item) -> String) {
        let kept = Array(items.prefix(limit))
        self.init(data: kept, nextCursor: items.count > limit ? kept.last.map { Cursor(position: position($0)) } : nil)
    }
}

extension Page: Encodable where Item: Encodable {
    enum CodingKeys: String, CodingKey {
        case data
        case nextCursor = "next_cursor"
        case total
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(data, forKey: .data)
        try container.encode(nextCursor, forKey: .nextCursor)
        try container.encodeIfPresent(total, forKey: .total)
    }
}

extension Page: JSONWritable where Item: JSONWritable {
    /// The same text as its `Encodable` form gives `JSONResponse` (keys in order).
    package func write(to writer: inout JSONWriter) throws {
        writer.raw("{\"data\":[")
        for (index, item) in data.enumerated() {
            if index > 0 { writer.raw(",") }
            try item.write(to: &writer)
        }
        writer.raw("],\"next_cursor\":")
        writer.string(nextCursor?.token)
        if let total {
            writer.raw(",\"total\":")
            writer.integer(total)
        }
        writer.raw("}")
    }
}
