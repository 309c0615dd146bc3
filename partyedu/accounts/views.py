
from django.http import HttpResponse


def lockout_response(request, credentials, *args, **kwargs):  # placeholder until views land
    return HttpResponse("账号已锁定", status=429)
