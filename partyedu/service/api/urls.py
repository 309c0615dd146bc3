from .urls_care import urlpatterns as care_urls
from .urls_community import urlpatterns as community_urls
from .urls_registration import urlpatterns as registration_urls

urlpatterns = [*registration_urls, *care_urls, *community_urls]
