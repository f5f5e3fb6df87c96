from django.urls import path

from endpoints import router

app_name = "endpoints"

urlpatterns = [
    path("endpoints/<str:workspace>/<str:name>/score", router.score, name="score"),
]
