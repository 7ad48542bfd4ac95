import Foundation

/// One owner's web resources: its static files (`Assets/`) and its texts (`Locales/<code>.json`). Platform has
/// the shared layout's, each module its own (`Module.webResources`); `WebKit.bundled` merges them at start-up and
/// refuses to start on a text key or file name two owners define, or a key one language lacks.
package struct WebResources: Sendable {
    /// Who they belong to (`platform`, `crm`), for error messages.
    package let owner: String
    package var assets: [String: Data]
    package var strings: [AppLocale: [String: String]]

    package init(owner: String, assets: [String: Data] = [:], strings: [AppLocale: [String: String]] = [:]) {
        self.owner = owner
        self.assets = assets
        self.strings = strings
    }

    /// Loads the resource folder `folder` (`Inopsio_CRM.resources`) beside the binary: every file of its
    /// `Assets/` (if any) and `Locales/<code>.json` for every locale (required).
    package static func bundled(owner: String, folder: String) throws -> WebResources {
        let directory = try ResourceFolders.directory(folder)
        var resources = WebResources(owner: owner)
        let assets = directory.appendingPathComponent("Assets")
        if FileManager.default.fileExists(atPath: assets.path) {
            for name in try FileManager.default.contentsOfDirectory(atPath: assets.path) where !name.hasPrefix(".") {
                resources.assets[name] = try Data(contentsOf: assets.appendingPathComponent(name))
            }
        }
        for locale in AppLocale.allCases {
            let url = directory.appendingPathComponent("Locales/\(locale.rawValue).json")
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw WebKitError.missingResource("\(folder)/Locales/\(locale.rawValue).json")
            }
            resources.strings[locale] = try JSONDecoder().decode([String: String].self, from: data)
        }
        return resources
    }

    /// The texts and files of `all`, merged; throws on a key or file two of them define, or a key of one owner
    /// that one of its languages lacks.
    package static func merge(_ all: [WebResources]) throws -> (LocalizationCatalog, AssetCatalog) {
        var tables: [AppLocale: [String: String]] = [:]
        var keyOwners: [String: String] = [:]
        var files: [String: Data] = [:]
        var fileOwners: [String: String] = [:]
        for resources in all {
            let keys = Set(resources.strings.values.flatMap(\.keys))
            for locale in AppLocale.allCases {
                let missing = keys.subtracting(resources.strings[locale]?.keys ?? [:].keys)
                if !missing.isEmpty {
                    throw WebKitError.missingTexts(owner: resources.owner, locale: locale.rawValue, keys: missing.sorted())
                }
            }
            for key in keys.sorted() {
                if let other = keyOwners[key] {
                    throw WebKitError.duplicate(kind: "text key", name: key, owners: [other, resources.owner])
                }
                keyOwners[key] = resources.owner
            }
            for (locale, table) in resources.strings { tables[locale, default: [:]].merge(table) { first, _ in first } }
            for (name, data) in resources.assets {
                if let other = fileOwners[name] {
                    throw WebKitError.duplicate(kind: "asset", name: name, owners: [other, resources.owner])
                }
                fileOwners[name] = resources.owner
                files[name] = data
            }
        }
        return (LocalizationCatalog(tables: tables), AssetCatalog(files: files))
    }
}

/// Finds a target's resource folder (`Inopsio_<Target>.resources`) next to the running binary. SwiftPM's
/// generated `Bundle.module` would stop the process with a fatal error when the folder is missing (a binary
/// copied without it); this reports a clear start-up error instead.
enum ResourceFolders {
    static func directory(_ folder: String) throws -> URL {
        var candidates = [Bundle.main.bundleURL.appendingPathComponent(folder)]
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent(folder))
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate.path) {
            return candidate
        }
        throw WebKitError.missingResource(
            "\(folder) (install it beside the inopsio binary; looked in \(candidates.map(\.path).joined(separator: ", ")))"
        )
    }
}
