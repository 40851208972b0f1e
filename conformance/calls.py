"""The upstream methods gitops-tune's providers call, by ``(api, service.method)``.

`test_routes` checks each is served by the emulator; `test_bodies` checks that every exchange
recorded from google-genai or google-cloud-storage goes to one of them (so this list cannot
fall behind the providers); `test_clients` drives each with Google's generated clients.
"""

from __future__ import annotations

GEMINI_V1BETA = "generativelanguage v1beta"
VERTEX = "aiplatform v1beta1"  # google-genai's default Vertex AI version
STORAGE = "storage v1"

TOOL_CALLS: frozenset[tuple[str, str]] = frozenset(
    {
        (GEMINI_V1BETA, "ModelService.ListTunedModels"),
        (GEMINI_V1BETA, "ModelService.GetTunedModel"),
        (GEMINI_V1BETA, "ModelService.CreateTunedModel"),
        (GEMINI_V1BETA, "ModelService.UpdateTunedModel"),
        (GEMINI_V1BETA, "ModelService.DeleteTunedModel"),
        (GEMINI_V1BETA, "ModelService.GetModel"),
        (GEMINI_V1BETA, "GenerativeService.CountTokens"),
        (GEMINI_V1BETA, "GenerativeService.GenerateContent"),
        (GEMINI_V1BETA, "Operations.ListOperations"),  # a FAILED model: was it cancelled?
        (VERTEX, "GenAiTuningService.CreateTuningJob"),
        (VERTEX, "GenAiTuningService.GetTuningJob"),
        (VERTEX, "GenAiTuningService.ListTuningJobs"),
        (VERTEX, "GenAiTuningService.CancelTuningJob"),
        (VERTEX, "ModelService.DeleteModel"),
        (VERTEX, "ModelService.ListModels"),
        (VERTEX, "ModelService.GetModel"),
        (VERTEX, "ModelService.UpdateModel"),
        (VERTEX, "EndpointService.UpdateEndpoint"),
        (VERTEX, "Operations.GetOperation"),
        (VERTEX, "PredictionService.GenerateContent"),
        (VERTEX, "EndpointService.GetEndpoint"),
        (VERTEX, "EndpointService.DeleteEndpoint"),
        (VERTEX, "EndpointService.UndeployModel"),
        (VERTEX, "ModelGardenService.GetPublisherModel"),
        (VERTEX, "PredictionService.CountTokens"),
        (STORAGE, "buckets.get"),
        (STORAGE, "buckets.insert"),
        (STORAGE, "objects.insert"),
        (STORAGE, "objects.list"),
        (STORAGE, "objects.get"),
        (STORAGE, "objects.delete"),
    }
)

# The providers' user agent says "gitops-tune/VERSION" (the tests also talk raw HTTP and
# drive google-genai directly).
TOOL_CLIENT = "gitops-tune/"
