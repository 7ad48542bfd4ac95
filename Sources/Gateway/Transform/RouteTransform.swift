import Foundation
import HTTPTypes
import NIOHTTP1

/// A route's compiled transformations: header edits both ways, a path rewrite or prefix strip, and JSON response
/// fields to remove.
package struct RouteTransform: Sendable {
    package let requestHeaders: HeaderTransform
    package let responseHeaders: HeaderTransform
    package let stripPrefix: String?
    /// Literal parts and `{name}` placeholders of the new path.
    package let rewritePath: [RewritePart]?
    /// Each field as its path of names; `*` stands for every element of an array or every member of an object.
    package let removeResponseFields: [[String]]

    package enum RewritePart: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    static func compile(_ definition: TransformDefinition, path: PathMatcher) -> Result<RouteTransform, RouteTableError>
    {
        var problems: [String] = []
        let request = HeaderTransform.compile(definition.requestHeaders, field: "request_headers", problems: &problems)
        let response = HeaderTransform.compile(
            definition.responseHeaders, field: "response_headers", problems: &problems)
        if let strip = definition.stripPrefix, !strip.hasPrefix("/") || strip.count < 2 {
            problems.append("strip_prefix: must start with / and name at least one character")
        }
        if definition.stripPrefix != nil, definition.rewritePath != nil {
            problems.append("give at most one of strip_prefix and rewrite_path")
        }
        var rewrite: [RewritePart]?
        if let template = definition.rewritePath {
            var known = Set<String>()
            if case .template(let segments) = path {
                for case .parameter(let name) in segments { known.insert(name) }
            }
            var parts: [RewritePart] = []
            var rest = Substring(template)
            while let open = rest.firstIndex(of: "{") {
                if open > rest.startIndex { parts.append(.literal(String(rest[..<open]))) }
                guard let close = rest[open...].firstIndex(of: "}") else {
                    problems.append("rewrite_path: a { has no closing }")
                    break
                }
                let name = String(rest[rest.index(after: open)..<close])
                if !known.contains(name) { problems.append("rewrite_path: {\(name)} is not a parameter of match.path") }
                parts.append(.parameter(name))
                rest = rest[rest.index(after: close)...]
            }
            if !rest.isEmpty { parts.append(.literal(String(rest))) }
            if !template.hasPrefix("/") { problems.append("rewrite_path: must start with /") }
            rewrite = parts
        }
        var fields: [[String]] = []
        for field in definition.removeResponseFields ?? [] {
            let parts = field.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if parts.contains(where: \.isEmpty) {
                problems.append("remove_response_fields: \(field) is not a dotted field name")
            } else {
                fields.append(parts)
            }
        }
        guard problems.isEmpty else { return .failure(RouteTableError(problems)) }
        return .success(
            RouteTransform(
                requestHeaders: request, responseHeaders: response, stripPrefix: definition.stripPrefix,
                rewritePath: rewrite, removeResponseFields: fields))
    }

    /// The path the target receives (query kept as it was).
    package func rewrite(path: Substring, parameters: [String: String]) -> String {
        if let rewritePath {
            return rewritePath.map { part in
                switch part {
                case .literal(let text): text
                case .parameter(let name): parameters[name] ?? ""
                }
            }.joined()
        }
        if let stripPrefix, path.hasPrefix(stripPrefix) {
            let rest = path.dropFirst(stripPrefix.count)
            return rest.hasPrefix("/") ? String(rest) : "/" + rest
        }
        return String(path)
    }

    /// Removes the configured fields from a JSON document; a body that is not JSON is returned unchanged.
    package func removeFields(from body: Data) -> Data {
        removeFields(fromJSON: body) ?? body
    }

    /// The JSON document without the configured fields, or `nil` when it is not JSON.
    package func removeFields(fromJSON body: Data) -> Data? {
        guard var document = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) else {
            return nil
        }
        for path in removeResponseFields { document = Self.remove(path[...], from: document) }
        return try? JSONSerialization.data(
            withJSONObject: document, options: [.fragmentsAllowed, .withoutEscapingSlashes])
    }

    private static func remove(_ path: ArraySlice<String>, from value: Any) -> Any {
        guard let head = path.first else { return value }
        let rest = path.dropFirst()
        if var object = value as? [String: Any] {
            if head == "*" {
                for (key, member) in object { object[key] = rest.isEmpty ? nil : remove(rest, from: member) }
                if rest.isEmpty { object.removeAll() }
            } else if rest.isEmpty {
                object.removeValue(forKey: head)
            } else if let member = object[head] {
                object[head] = remove(rest, from: member)
            }
            return object
        }
        if let array = value as? [Any] {
            // A field path goes through arrays: `data.secret` removes `secret` from every element of `data`.
            let inner = head == "*" ? rest : path
            if inner.isEmpty { return [Any]() }
            return array.map { remove(inner, from: $0) }
        }
        return value
    }
}

/// Header edits, applied in the order remove, rename, add (an added header replaces one of the same name).
package struct HeaderTransform: Sendable {
    package let remove: [HTTPField.Name]
    package let rename: [(from: HTTPField.Name, to: HTTPField.Name)]
    package let add: [(HTTPField.Name, String)]

    static func compile(_ definition: HeaderTransformDefinition?, field: String, problems: inout [String])
        -> HeaderTransform
    {
        func name(_ text: String) -> HTTPField.Name? {
            guard let name = HTTPField.Name(text) else {
                problems.append("\(field): \(text) is not a valid header name")
                return nil
            }
            return name
        }
        let remove = (definition?.remove ?? []).compactMap(name)
        let rename = (definition?.rename ?? [:]).sorted { $0.key < $1.key }.compactMap {
            from, to -> (HTTPField.Name, HTTPField.Name)? in
            guard let from = name(from), let to = name(to) else { return nil }
            return (from, to)
        }
        let add = (definition?.add ?? [:]).sorted { $0.key < $1.key }.compactMap {
            key, value -> (HTTPField.Name, String)? in
            guard let header = name(key) else { return nil }
            if value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
                problems.append("\(field): the value of \(key) contains a line break")
                return nil
            }
            return (header, value)
        }
        return HeaderTransform(remove: remove, rename: rename.map { (from: $0.0, to: $0.1) }, add: add)
    }

    package func apply(to fields: inout HTTPFields) {
        for name in remove { fields[name] = nil }
        for (from, to) in rename {
            let values = fields[values: from]
            guard !values.isEmpty else { continue }
            fields[from] = nil
            fields[values: to] = values
        }
        for (name, value) in add { fields[name] = value }
    }

    /// The same edits on HTTP/1 headers (the fast path's).
    func apply(to headers: inout HTTPHeaders) {
        for name in remove { headers.remove(name: name.rawName) }
        for (from, to) in rename {
            let values = headers[from.rawName]
            guard !values.isEmpty else { continue }
            headers.remove(name: from.rawName)
            headers.remove(name: to.rawName)
            for value in values { headers.add(name: to.rawName, value: value) }
        }
        for (name, value) in add { headers.replaceOrAdd(name: name.rawName, value: value) }
    }
}
