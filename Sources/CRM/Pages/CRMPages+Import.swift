import Foundation
import Hummingbird
import Kernel
import Platform

/// The import wizard's pages.
extension CRMPages {
    // MARK: import

    func imports(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsRead)
        let tenant = try context.requireTenant()
        let items = try await services.database.read(tenant: tenant) { tx in
            try await ImportStore().list(limit: 20, after: nil, in: tx)
        }
        return frame(request, context, section: "import", title: "") { t in
            let rows = items.map { item -> HTML in
                """
                <tr><td><a href="/crm/import/\(item.id.description)">\(item.filename)</a></td><td>\(t("crm.\(item.entity.rawValue == "company" ? "companies" : item.entity.rawValue + "s")"))</td>
                <td>\(t("crm.import_status.\(item.status.rawValue)"))\(item.dryRun ? " (\(t("crm.dry_run")))" : "")</td><td>\(String(item.rowCount))</td></tr>
                """
            }
            return """
                <form class="form" id="upload-form" data-upload><div class="field"><label for="import-entity">\(t("crm.import_into"))</label>
                <select id="import-entity" name="entity"><option value="lead">\(t("crm.leads"))</option><option value="contact">\(t("crm.contacts"))</option><option value="company">\(t("crm.companies"))</option></select></div>
                <div class="field"><label for="import-file">\(t("crm.csv_file"))</label><input id="import-file" name="file" type="file" accept=".csv,text/csv" required>
                <p class="field-hint">\(t("crm.csv_hint"))</p></div>
                <div class="form-actions"><button class="button button-primary" type="submit">\(t("crm.upload"))</button></div></form>
                \(rows.isEmpty ? "" : "<h2>\(t("crm.recent_imports"))</h2><div class=\"table-wrap\"><table class=\"table\"><tbody>\(rows)</tbody></table></div>" as HTML)
                """
        }
    }

    func importPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsRead)
        let tenant = try context.requireTenant()
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw DomainError.notFound(entity: "import")
        }
        let loaded = try await services.database.read(tenant: tenant) {
            tx -> (CRMImport, [ImportStore.RowError], [CustomField])? in
            guard let item = try await ImportStore().find(id, in: tx) else { return nil }
            return (
                item, try await ImportStore().errors(of: id, after: nil, limit: 100, in: tx),
                try await CustomFieldStore().list(entity: item.entity, in: tx)
            )
        }
        guard let (item, errors, definitions) = loaded else { throw DomainError.notFound(entity: "import") }
        return frame(request, context, section: "import", title: item.filename) { t in
            let targets = CRMImport.fields(item.entity) + definitions.map { "cf.\($0.key)" }
            let mapping = item.columns.enumerated().map { index, column -> HTML in
                let chosen = item.mapping[column]
                let options = targets.map { field -> HTML in
                    let selected: HTML = chosen == field ? " selected" : ""
                    return
                        "<option value=\"\(field)\"\(selected)>\(field.hasPrefix("cf.") ? field : t("crm.field.\(field)"))</option>"
                }
                return """
                    <div class="field"><label for="map-\(String(index))">\(column)</label><select id="map-\(String(index))" data-column="\(column)">
                    <option value="">\(t("crm.skip_column"))</option>\(options)</select></div>
                    """
            }
            let progress = item.progress
            let running = item.status == .queued || item.status == .running
            let canStart = item.status == .uploaded || (item.dryRun && !running)
            let form: HTML =
                canStart
                ? """
                <h2>\(t("crm.mapping"))</h2><form class="form" id="mapping-form" data-start="\(CRMPaths.imports)/\(item.id.description)/start">\(mapping)
                <div class="field"><label for="on-duplicate">\(t("crm.on_duplicate"))</label><select id="on-duplicate" name="on_duplicate">
                <option value="skip">\(t("crm.duplicate.skip"))</option><option value="update">\(t("crm.duplicate.update"))</option></select></div>
                <div class="form-actions"><button class="button" type="submit" name="dry_run" value="true" id="dry-run">\(t("crm.dry_run"))</button>
                <button class="button button-primary" type="submit" name="dry_run" value="false" id="run-import">\(t("crm.run_import"))</button></div></form>
                """ : ""
            let errorRows = errors.map { error -> HTML in
                "<tr><td>\(String(error.row))</td><td>\(error.field)</td><td>\(error.message)</td></tr>"
            }
            let errorTable: HTML =
                errors.isEmpty
                ? ""
                : """
                <h2>\(t("crm.rejected_rows"))</h2><div class="table-wrap"><table class="table" id="import-errors"><thead><tr>
                <th scope="col">\(t("crm.line"))</th><th scope="col">\(t("crm.field"))</th><th scope="col">\(t("crm.problem"))</th></tr></thead><tbody>\(errorRows)</tbody></table></div>
                """
            return """
                <div id="import-status" data-import="\(item.id.description)" data-status="\(item.status.rawValue)">
                <p><strong>\(t("crm.import_status.\(item.status.rawValue)"))</strong>\(item.dryRun && item.status != .uploaded ? " — \(t("crm.dry_run"))" : "")</p>
                <progress max="\(String(max(item.rowCount, 1)))" value="\(String(progress.processed))" aria-label="\(t("crm.progress"))"></progress>
                <dl class="crm-details" id="import-counts"><dt>\(t("crm.rows"))</dt><dd>\(String(item.rowCount))</dd>
                <dt>\(t("crm.processed"))</dt><dd data-count="processed">\(String(progress.processed))</dd>
                <dt>\(t("crm.created"))</dt><dd data-count="created">\(String(progress.created))</dd>
                <dt>\(t("crm.updated"))</dt><dd data-count="updated">\(String(progress.updated))</dd>
                <dt>\(t("crm.skipped"))</dt><dd data-count="skipped">\(String(progress.skipped))</dd>
                <dt>\(t("crm.rejected"))</dt><dd data-count="rejected">\(String(progress.rejected))</dd></dl></div>
                \(form)\(errorTable)
                """
        }
    }
}
