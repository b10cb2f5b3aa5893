import Foundation
import Services

/// The dashboard's numbers in one answer, for the pipelines the caller may see.
enum DashboardRoutes {
    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/dashboard", "getDashboard",
                 "Runs of the last 24 hours and 7 days by status, success rate and duration per pipeline, running runs, the queue, failing pipelines, trigger health and live workers.",
                 tag: "runs", response: APISchema.of(DashboardSnapshot.self)) { call in
            try .json(try await call.services.dashboard.snapshot(for: try call.caller))
        },
    ]
}
