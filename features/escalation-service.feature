@sut
Feature: The escalation service keeps the integration's promises
  The integration service receives ticketing's signed "ticket.escalated" webhooks and opens
  incidents in the incidents API. contrail plays both partners around it: it sends the
  webhooks, and answers (and watches) the incidents API the service calls.

  Background:
    Given the contract "support-escalation"

  Scenario: An escalated ticket opens one incident with the ticket's link and mapped severity
    When "ticketing" sends the "ticket.escalated" webhook:
      """json
      { "ticket": { "id": "T-101", "title": "Printer on fire", "priority": "high", "link": "https://desk.example/tickets/T-101" } }
      """
    Then the system under test answers 202
    And within 2 seconds "incidents" receives exactly 1 "createIncident" request
    And that request's body matches:
      """json
      { "title": "Printer on fire", "severity": 1, "link": "https://desk.example/tickets/T-101", "external_id": "T-101" }
      """

  Scenario: A ticket without a priority opens a severity 2 incident, the mapping's default
    When "ticketing" sends the "ticket.escalated" webhook:
      """json
      { "ticket": { "id": "T-102", "title": "Something is odd", "link": "https://desk.example/tickets/T-102" } }
      """
    Then within 2 seconds "incidents" receives exactly 1 "createIncident" request
    And that request's body matches:
      """json
      { "severity": 2, "external_id": "T-102" }
      """

  Scenario: A webhook delivered twice opens one incident
    When "ticketing" sends the "ticket.escalated" webhook:
      """json
      { "ticket": { "id": "T-103", "title": "Disk full", "priority": "med", "link": "https://desk.example/tickets/T-103" } }
      """
    And that webhook is delivered again
    Then within 2 seconds "incidents" receives exactly 1 "createIncident" request

  Scenario: An older event that arrives after a newer one changes nothing
    When "ticketing" sends these "ticket.escalated" webhooks in reverse order:
      """json
      [
        { "occurred_at": "2026-11-23T10:00:00Z", "ticket": { "id": "T-104", "title": "Slow login", "priority": "low", "link": "https://desk.example/tickets/T-104" } },
        { "occurred_at": "2026-11-23T10:05:00Z", "ticket": { "id": "T-104", "title": "Slow login", "priority": "high", "link": "https://desk.example/tickets/T-104" } }
      ]
      """
    Then within 2 seconds "incidents" receives exactly 1 "createIncident" request
    And that request's body matches:
      """json
      { "severity": 1, "external_id": "T-104" }
      """

  Scenario: A webhook with a bad signature is refused and opens nothing
    When "ticketing" sends the "ticket.escalated" webhook with a bad signature:
      """json
      { "ticket": { "id": "T-105", "title": "Forged", "priority": "high", "link": "https://desk.example/tickets/T-105" } }
      """
    Then the system under test answers 401
    And within 2 seconds "incidents" receives no "createIncident" request

  Scenario: A webhook signed too long ago is refused (a replayed delivery)
    When "ticketing" sends the "ticket.escalated" webhook signed 10 minutes ago:
      """json
      { "ticket": { "id": "T-106", "title": "Replayed", "priority": "high", "link": "https://desk.example/tickets/T-106" } }
      """
    Then the system under test answers 401
    And within 2 seconds "incidents" receives no "createIncident" request

  Scenario: An oversized payload is refused with 413 and the service keeps working
    When "ticketing" sends a 5 MB "ticket.escalated" webhook
    Then the system under test answers 413
    When "ticketing" sends the "ticket.escalated" webhook:
      """json
      { "ticket": { "id": "T-107", "title": "After the big one", "priority": "low", "link": "https://desk.example/tickets/T-107" } }
      """
    Then the system under test answers 202
    And within 2 seconds "incidents" receives exactly 1 "createIncident" request

  Scenario: The service waits as long as Retry-After says before trying again
    Given "incidents" answers the next 2 "createIncident" calls with 429 and Retry-After 1
    When "ticketing" sends the "ticket.escalated" webhook:
      """json
      { "ticket": { "id": "T-108", "title": "Throttled", "priority": "high", "link": "https://desk.example/tickets/T-108" } }
      """
    Then within 10 seconds "incidents" answers 1 "createIncident" requests with 201
    And within 1 seconds "incidents" receives exactly 3 "createIncident" requests
    And consecutive "createIncident" requests are at least 1 seconds apart

  Scenario: A revoked token is refreshed and the incident still opens
    When "ticketing" sends the "ticket.escalated" webhook:
      """json
      { "ticket": { "id": "T-109", "title": "Before the revocation", "priority": "med", "link": "https://desk.example/tickets/T-109" } }
      """
    Then within 5 seconds "incidents" answers 1 "createIncident" requests with 201
    When the access tokens of "incidents" are revoked
    And "ticketing" sends the "ticket.escalated" webhook:
      """json
      { "ticket": { "id": "T-110", "title": "After the revocation", "priority": "med", "link": "https://desk.example/tickets/T-110" } }
      """
    Then within 5 seconds "incidents" answers 1 "createIncident" requests with 401
    And within 5 seconds "incidents" answers 2 "createIncident" requests with 201

  @fresh-sut
  Scenario: Without the write scope the service pauses writes and says which scope is missing
    Given the scope "incidents:write" is removed from the clients of "incidents"
    When "ticketing" sends the "ticket.escalated" webhook:
      """json
      { "ticket": { "id": "T-111", "title": "No permission", "priority": "high", "link": "https://desk.example/tickets/T-111" } }
      """
    Then within 5 seconds "incidents" answers 1 "createIncident" requests with 403
    And within 5 seconds the system under test's "/status" matches:
      """json
      { "paused": true, "error": "#regex .*lacks the scope incidents:write.*" }
      """
    When "ticketing" sends the "ticket.escalated" webhook:
      """json
      { "ticket": { "id": "T-112", "title": "Still no permission", "priority": "high", "link": "https://desk.example/tickets/T-112" } }
      """
    Then within 2 seconds "incidents" receives exactly 1 "createIncident" request

  Scenario: The next scenario gets a service that is not paused
    When "ticketing" sends the "ticket.escalated" webhook:
      """json
      { "ticket": { "id": "T-113", "title": "Back to normal", "priority": "low", "link": "https://desk.example/tickets/T-113" } }
      """
    Then within 5 seconds "incidents" answers 1 "createIncident" requests with 201

  Scenario: Any escalated ticket opens an incident whose severity follows the priority mapping
    When "ticketing" sends 10 generated "ticket.escalated" webhooks, each checked with:
      """
      Then within 5 seconds "incidents" answers 1 "createIncident" requests with 201
      And that request's field "severity" follows the mapping "priority_to_severity" from the webhook's "ticket.priority"
      """

  Scenario: Through an outage the service backs off exponentially, then gives up and says so
    Given "incidents" answers the next 10 "createIncident" calls with 503
    When "ticketing" sends the "ticket.escalated" webhook:
      """json
      { "ticket": { "id": "T-114", "title": "During the outage", "priority": "high", "link": "https://desk.example/tickets/T-114" } }
      """
    Then within 10 seconds "incidents" receives at least 6 "createIncident" requests
    And within 2 seconds "incidents" receives exactly 6 "createIncident" requests
    And consecutive "createIncident" requests back off exponentially from 200 ms up to 10000 ms
    And within 2 seconds the system under test's "/status" matches:
      """json
      { "error": "#regex gave up after 6 attempts.*" }
      """

  Scenario: A burst of escalations stays within the partner's rate limit and every incident opens
    When "ticketing" sends these "ticket.escalated" webhooks:
      """json
      [
        { "ticket": { "id": "T-121", "title": "Burst 1", "priority": "low", "link": "https://desk.example/tickets/T-121" } },
        { "ticket": { "id": "T-122", "title": "Burst 2", "priority": "low", "link": "https://desk.example/tickets/T-122" } },
        { "ticket": { "id": "T-123", "title": "Burst 3", "priority": "low", "link": "https://desk.example/tickets/T-123" } },
        { "ticket": { "id": "T-124", "title": "Burst 4", "priority": "low", "link": "https://desk.example/tickets/T-124" } },
        { "ticket": { "id": "T-125", "title": "Burst 5", "priority": "low", "link": "https://desk.example/tickets/T-125" } },
        { "ticket": { "id": "T-126", "title": "Burst 6", "priority": "low", "link": "https://desk.example/tickets/T-126" } },
        { "ticket": { "id": "T-127", "title": "Burst 7", "priority": "low", "link": "https://desk.example/tickets/T-127" } },
        { "ticket": { "id": "T-128", "title": "Burst 8", "priority": "low", "link": "https://desk.example/tickets/T-128" } }
      ]
      """
    Then within 15 seconds "incidents" answers 8 "createIncident" requests with 201
    And within 1 seconds "incidents" answers 1 "createIncident" requests with 429

  Scenario: When its refresh token is revoked too, the service reconnects with its credentials
    When "ticketing" sends the "ticket.escalated" webhook with:
      | field         | value                              |
      | ticket.id     | T-131                              |
      | ticket.title  | Before the revocation              |
      | ticket.link   | https://desk.example/tickets/T-131 |
    Then within 5 seconds "incidents" answers 1 "createIncident" requests with 201
    When the access tokens of "incidents" are revoked
    And the refresh tokens of "incidents" are revoked
    And "ticketing" sends the "ticket.escalated" webhook with:
      | field         | value                              |
      | ticket.id     | T-132                              |
      | ticket.title  | After the revocation               |
      | ticket.link   | https://desk.example/tickets/T-132 |
    Then within 5 seconds "incidents" answers 1 "createIncident" requests with 401
    And within 5 seconds "incidents" answers 2 "createIncident" requests with 201
